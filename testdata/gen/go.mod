module github.com/wsdump/wsdump/testdata/gen

go 1.26.8

require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
)
