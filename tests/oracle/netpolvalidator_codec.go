// Command netpolvalidator-codec is the reference that netpol-client's JSON
// (client/check_list.cpp, client/results_log.cpp) is tested against: it
// decodes a POST /check body and encodes a GET /results body exactly as the
// real client, netpolvalidator (cloud-bulldozer/images, netpolvalidator/
// main.go), does, with Go's own encoding/json and time packages (standard
// library only). The types below have the real client's field types and
// JSON tags; the expansion into tests follows its handler: one test per
// address × port of a connection, connectionidx being the connection's
// index in the body. `int` is 64 bits here (amd64), as in the real image.
//
// Go newer than the 1.19 this is built with differs in one known place:
// since Go 1.22 the encoder writes \b and \f for U+0008 and U+000C, where
// 1.19 (and netpol-client) write \u0008 and \u000c. Decoding is the same.
//
// Usage:
//
//	netpolvalidator-codec --serve   frames on stdin, frames on stdout
//	    request:  1 byte kind, a 4-byte big-endian length, the payload
//	    answer:   1 byte status, a 4-byte big-endian length, the payload
//	  kind 'D' (decode): the payload is a /check body. Status 1: Go takes
//	    it, the payload is a JSON decodeReport; status 0: Go refuses it,
//	    the payload is Go's error.
//	  kind 'E' (encode): the payload is a big-endian u32 entry count, then
//	    per entry: u32 length + address bytes, u32 length + npname bytes,
//	    i64 port, i64 connectionidx, i64 Unix seconds, u32 nanoseconds.
//	    Status 1: the payload is what json.NewEncoder(w).Encode writes for
//	    those entries as []connTest, the timestamps time.Unix(s, ns).UTC();
//	    status 0: the encoder's error.
//	netpolvalidator-codec FILE...   decodes each file: one line, the verdict
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// connection is one element of a /check body (the real client's type).
type connection struct {
	Addresses []string `json:"addresses"`
	Ports     []int    `json:"ports"`
	Netpol    string   `json:"netpol"`
}

// connTest is one /results entry (the real client's type).
type connTest struct {
	Address    string    `json:"address"`
	Port       int       `json:"port"`
	IngressIdx int       `json:"connectionidx"`
	NpName     string    `json:"npname"`
	Timestamp  time.Time `json:"timestamp"`
}

type testReport struct {
	Address       string `json:"address"`
	Port          int64  `json:"port"`
	ConnectionIdx int64  `json:"connectionidx"`
	Netpol        string `json:"netpol"`
}

// decodeReport is what an accepted body decodes to. Addresses and Ports
// list every connection's values, also those of connections with no tests:
// netpol-client refuses a body for a bad one anywhere.
type decodeReport struct {
	Connections int          `json:"connections"`
	Tests       []testReport `json:"tests"`
	Addresses   []string     `json:"addresses"`
	Ports       []int64      `json:"ports"`
}

// decode unmarshals a /check body into a fresh []connection, as the real
// client's first /check does, and expands it into tests.
func decode(body []byte) (*decodeReport, error) {
	var connections []connection
	if err := json.Unmarshal(body, &connections); err != nil {
		return nil, err
	}
	r := &decodeReport{Connections: len(connections),
		Tests: []testReport{}, Addresses: []string{}, Ports: []int64{}}
	for idx, c := range connections {
		r.Addresses = append(r.Addresses, c.Addresses...)
		for _, p := range c.Ports {
			r.Ports = append(r.Ports, int64(p))
		}
		for _, a := range c.Addresses {
			for _, p := range c.Ports {
				r.Tests = append(r.Tests, testReport{a, int64(p), int64(idx), c.Netpol})
			}
		}
	}
	return r, nil
}

// payloadReader reads the fields of an encode request.
type payloadReader struct {
	b   []byte
	err error
}

func (p *payloadReader) take(n int) []byte {
	if p.err != nil || n < 0 || n > len(p.b) {
		p.err = errors.New("encode request cut short")
		return make([]byte, 8)
	}
	out := p.b[:n]
	p.b = p.b[n:]
	return out
}

func (p *payloadReader) u32() uint32 { return binary.BigEndian.Uint32(p.take(4)) }
func (p *payloadReader) i64() int64  { return int64(binary.BigEndian.Uint64(p.take(8))) }
func (p *payloadReader) text() string {
	return string(p.take(int(p.u32())))
}

// encode writes the entries of an encode request as the real client's
// /results handler does.
func encode(payload []byte) ([]byte, error) {
	p := &payloadReader{b: payload}
	results := make([]connTest, 0) // the real client's results start empty, not nil
	for n := p.u32(); n > 0 && p.err == nil; n-- {
		var e connTest
		e.Address = p.text()
		e.NpName = p.text()
		e.Port = int(p.i64())
		e.IngressIdx = int(p.i64())
		sec := p.i64()
		e.Timestamp = time.Unix(sec, int64(p.u32())).UTC()
		results = append(results, e)
	}
	if p.err == nil && len(p.b) != 0 {
		p.err = errors.New("encode request has trailing bytes")
	}
	if p.err != nil {
		return nil, p.err
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(results); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// answer handles one request: the status and the payload of its answer.
func answer(kind byte, payload []byte) (byte, []byte, error) {
	switch kind {
	case 'D':
		report, err := decode(payload)
		if err != nil {
			return 0, []byte(err.Error()), nil
		}
		out, err := json.Marshal(report)
		return 1, out, err
	case 'E':
		out, err := encode(payload)
		if err != nil {
			return 0, []byte(err.Error()), nil
		}
		return 1, out, nil
	}
	return 0, nil, fmt.Errorf("unknown request kind %q", kind)
}

func serve(in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriterSize(out, 1<<16)
	var header [5]byte
	for {
		if _, err := io.ReadFull(r, header[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		payload := make([]byte, binary.BigEndian.Uint32(header[1:]))
		if _, err := io.ReadFull(r, payload); err != nil {
			return err
		}
		status, reply, err := answer(header[0], payload)
		if err != nil {
			return err
		}
		header[0] = status
		binary.BigEndian.PutUint32(header[1:], uint32(len(reply)))
		w.Write(header[:])
		w.Write(reply)
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

func main() {
	args := os.Args[1:]
	if len(args) == 1 && args[0] == "--serve" {
		if err := serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "netpolvalidator-codec:", err)
			os.Exit(1)
		}
		return
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: netpolvalidator-codec --serve | FILE...")
		os.Exit(2)
	}
	status := 0
	for _, name := range args {
		body, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "netpolvalidator-codec:", err)
			status = 2
			continue
		}
		if r, err := decode(body); err != nil {
			fmt.Printf("%s: reject: %v\n", name, err)
		} else {
			out, _ := json.Marshal(r)
			fmt.Printf("%s: accept: %s\n", name, out)
		}
	}
	os.Exit(status)
}
