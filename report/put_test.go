package report

import (
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// wsOf feeds exp wsparse.Sink calls, as records.
func wsOf(exp Exporter) wsparse.Sink { return &record.FromWS{Out: exp} }
