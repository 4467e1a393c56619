// Command wss runs a gorilla/websocket server and client against each other
// over TLS (crypto/tls) on one address, writes the NSS key log of the
// client's connections and the manifest of the data messages sent.
//
//	wss -addr 127.0.0.1:PORT -suite SUITE -keylog OUT.keys -manifest OUT.messages.tsv
//	    [-conns 2 -keylog-conns 1] [-corrupt-keylog]
//	wss -gencert DIR        # writes DIR/cert.pem and DIR/key.pem (for ws-node-wss.js)
//
// SUITE: tls13-hrr (tls13 with a HelloRetryRequest), tls13 (Go's default TLS 1.3 suite: TLS_AES_128_GCM_SHA256 on AES
// hardware), or TLS 1.2 with exactly one cipher suite: tls12-aes128gcm,
// tls12-aes256gcm (SHA-384 PRF), tls12-chacha20, tls12-aes128cbc-sha,
// tls12-aes128cbc-sha256. The certificate is a self-signed RSA 2048 one made
// at run time for the name wsdump.test (sent as SNI); ALPN is http/1.1.
//
// -conns N runs the session N times on N connections; -keylog-conns K writes
// the key log of the first K of them only (K < N: a capture with a
// connection that cannot be decrypted). -corrupt-keylog flips the last bit
// of every secret it writes (a wrong key). The manifest lists the messages
// that the key log written can decrypt: those of the connections whose keys
// are logged, none with -corrupt-keylog.
//
// Session per connection: the client sends its messages (one fragmented by
// NextWriter with the 1024-byte write buffer, one of 20000 bytes that spans
// two TLS records), the server pings and answers with its own (one of 40000
// bytes, one fragmented with an empty final continuation frame), the client
// pings, then closes with 1000; gorilla answers with the code.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsdump/wsdump/testdata/gen/internal/gen"
)

const serverName = "wsdump.test"

var suites = map[string]uint16{
	"tls12-aes128gcm":        tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"tls12-aes256gcm":        tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"tls12-chacha20":         tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"tls12-aes128cbc-sha":    tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"tls12-aes128cbc-sha256": tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
}

type msg struct {
	op    int
	parts [][]byte // more than one part: written through NextWriter
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen and dial address")
	suite := flag.String("suite", "tls13", "tls13 or one of the tls12-* suites")
	keylogPath := flag.String("keylog", "/dev/null", "NSS key log output")
	manifestPath := flag.String("manifest", "/dev/null", "manifest output")
	conns := flag.Int("conns", 1, "connections, one after the other")
	keylogConns := flag.Int("keylog-conns", -1, "log the keys of the first N connections only (default all)")
	corrupt := flag.Bool("corrupt-keylog", false, "flip the last bit of every logged secret")
	gencert := flag.String("gencert", "", "only write DIR/cert.pem and DIR/key.pem")
	flag.Parse()
	log.SetPrefix("wss: ")
	time.AfterFunc(30*time.Second, func() { log.Fatal("timeout") })

	cert, certPEM, keyPEM, err := selfSigned()
	if err != nil {
		log.Fatal(err)
	}
	if *gencert != "" {
		if err := os.WriteFile(filepath.Join(*gencert, "cert.pem"), certPEM, 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*gencert, "key.pem"), keyPEM, 0o600); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *keylogConns < 0 {
		*keylogConns = *conns
	}

	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	clientTLS := &tls.Config{RootCAs: roots, ServerName: serverName, NextProtos: []string{"http/1.1"}}
	switch *suite {
	case "tls13":
	case "tls13-hrr":
		// The server prefers a group the client sent no key share for: a
		// HelloRetryRequest, with a middlebox ChangeCipherSpec each way.
		serverTLS.CurvePreferences = []tls.CurveID{tls.CurveP256}
		clientTLS.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	default:
		id, ok := suites[*suite]
		if !ok {
			log.Fatalf("unknown suite %q", *suite)
		}
		for _, c := range []*tls.Config{serverTLS, clientTLS} {
			c.MinVersion, c.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
			c.CipherSuites = []uint16{id}
		}
	}

	var keys bytes.Buffer
	var m gen.Manifest
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	sessions := make(chan func(*websocket.Conn) error, 1)
	srv := &http.Server{
		TLSConfig: serverTLS,
		// No HTTP/2: net/http would refuse TLS 1.2 configs without an h2 suite.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(os.Stderr, "server: ", 0),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 1024}
			c, err := up.Upgrade(w, req, nil)
			if err != nil {
				log.Print(err)
				return
			}
			defer c.Close()
			c.SetReadLimit(1 << 24)
			if err := (<-sessions)(c); err != nil {
				log.Fatal("server: ", err)
			}
		}),
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()

	for i := 0; i < *conns; i++ {
		logged := i < *keylogConns
		c2s, s2c := script()
		var mm *gen.Manifest
		if logged && !*corrupt {
			mm = &m
		}
		serverDone := make(chan error, 1)
		sessions <- func(c *websocket.Conn) error {
			err := serverSession(c, mm, c2s, s2c)
			serverDone <- err
			return err
		}
		cfg := clientTLS.Clone()
		if logged {
			cfg.KeyLogWriter = &keys
		}
		if err := clientSession(cfg, "wss://"+*addr+"/wss", mm, c2s, s2c); err != nil {
			log.Fatal("client: ", err)
		}
		if err := <-serverDone; err != nil {
			log.Fatal(err)
		}
	}
	srv.Close()

	out := keys.Bytes()
	if *corrupt {
		out = corruptKeyLog(out)
	}
	if err := os.WriteFile(*keylogPath, out, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := m.Write(*manifestPath); err != nil {
		log.Fatal(err)
	}
}

func send(c *websocket.Conn, m *gen.Manifest, dir string, x msg) error {
	if m != nil {
		m.Add(dir, x.op, bytes.Join(x.parts, nil))
	}
	if len(x.parts) == 1 {
		return c.WriteMessage(x.op, x.parts[0])
	}
	w, err := c.NextWriter(x.op)
	if err != nil {
		return err
	}
	for _, p := range x.parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return w.Close()
}

func serverSession(c *websocket.Conn, m *gen.Manifest, c2s, s2c []msg) error {
	for range c2s {
		if _, _, err := c.ReadMessage(); err != nil {
			return err
		}
	}
	if err := c.WriteControl(websocket.PingMessage, []byte("wss server ping"), time.Now().Add(time.Second)); err != nil {
		return err
	}
	for _, x := range s2c {
		if err := send(c, m, "s2c", x); err != nil {
			return err
		}
	}
	_, _, err := c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		return fmt.Errorf("expected close 1000, got %v", err)
	}
	return nil
}

func clientSession(cfg *tls.Config, url string, m *gen.Manifest, c2s, s2c []msg) error {
	d := websocket.Dialer{ReadBufferSize: 4096, WriteBufferSize: 1024, TLSClientConfig: cfg}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadLimit(1 << 24)
	pong := make(chan string, 1)
	c.SetPongHandler(func(s string) error { pong <- s; return nil })
	received := make(chan int, 1)
	readErr := make(chan error, 1)
	go func() {
		for n := 0; ; n++ {
			if n == len(s2c) {
				received <- n
			}
			if _, _, err := c.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for _, x := range c2s {
		if err := send(c, m, "c2s", x); err != nil {
			return err
		}
	}
	<-received
	if err := c.WriteControl(websocket.PingMessage, []byte("wss client ping"), time.Now().Add(time.Second)); err != nil {
		return err
	}
	if p := <-pong; p != "wss client ping" {
		return fmt.Errorf("pong payload %q", p)
	}
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		return err
	}
	if err := <-readErr; !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		return errors.New("expected close 1000, got " + err.Error())
	}
	return nil
}

// script is the same on every connection and every run.
func script() (c2s, s2c []msg) {
	r := gen.NewRand(0x777373) // "wss"
	T, B := websocket.TextMessage, websocket.BinaryMessage
	c2s = []msg{
		{op: T, parts: [][]byte{r.Text(0)}},
		{op: T, parts: [][]byte{[]byte("hello over wss")}},
		{op: B, parts: [][]byte{r.Binary(126)}},
		{op: T, parts: [][]byte{r.JSONText(1000), r.JSONText(1500), r.JSONText(500)}},
		{op: B, parts: [][]byte{r.Binary(20000)}},
	}
	s2c = []msg{
		{op: T, parts: [][]byte{r.Text(1)}},
		{op: B, parts: [][]byte{r.Binary(125)}},
		{op: T, parts: [][]byte{r.JSONText(40000)}},
		{op: B, parts: [][]byte{r.Binary(10), r.Binary(5000)}},
		{op: T, parts: [][]byte{[]byte("done")}},
	}
	return c2s, s2c
}

func selfSigned() (tls.Certificate, []byte, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: serverName},
		DNSNames:     []string{serverName},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, keyPEM, err
}

// corruptKeyLog flips the last bit of the secret on every line.
func corruptKeyLog(b []byte) []byte {
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			out.WriteString(line)
			continue
		}
		sec, err := hex.DecodeString(f[2])
		if err != nil || len(sec) == 0 {
			out.WriteString(line)
			continue
		}
		sec[len(sec)-1] ^= 1
		fmt.Fprintf(&out, "%s %s %s\n", f[0], f[1], hex.EncodeToString(sec))
	}
	return []byte(out.String())
}
