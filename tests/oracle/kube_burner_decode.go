// Command kube-burner-decode is the reference that netpol-proxy's /results
// body scanner (actors/results_body.cpp) is tested against: it decodes a
// client pod's /results body exactly as kube-burner does, with Go's own
// encoding/json and time packages (standard library only).
//
// A pod body B is accepted iff both
//   - json.Unmarshal(B, &[]connTest) succeeds, and
//   - json.Unmarshal(`{"p":` + B + `}`, &map[string][]connTest) succeeds:
//     the proxy serves kube-burner {"<pod ip>": B, ...}, which adds one level
//     of nesting (Go refuses more than 10,000), and decoding B alone first
//     rules out bodies that only parse inside the wrapper (`[] ,"q":1`).
//
// Usage:
//
//	kube-burner-decode --serve   frames on stdin, frames on stdout:
//	    request:  4-byte big-endian length, then the body
//	    answer:   1 byte verdict (1 accept, 0 reject), then a 4-byte
//	              big-endian length and a payload: on accept a JSON array of
//	              the decoded entries (see entryReport), on reject Go's error
//	kube-burner-decode FILE...   one line per file: accept/reject and why
//	kube-burner-decode --results FILE   the proxy's whole /results, decoded
//	    as kube-burner decodes it (map[string][]connTest): one JSON line per
//	    entry with its pod, fields and Unix nanoseconds; exit 1 if Go refuses
//	    it (the client lab's end-to-end test reads this)
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// connTest has the field types and JSON tags of kube-burner's connTest
// (kube-burner/kube-burner, pkg/measurements/netpol_latency.go), which
// kube-burner decodes /results into as map[string][]connTest.
type connTest struct {
	Address    string    `json:"address"`
	Port       int32     `json:"port"`
	IngressIdx int       `json:"connectionidx"`
	NpName     string    `json:"npname"`
	Timestamp  time.Time `json:"timestamp"`
}

// The shadow decode: the same tags, each field a type that records whether
// a non-null value was given (Go's decoder hands an Unmarshaler `null` too,
// and this one ignores it as the plain types do) and the raw JSON text.
// It only adds the "set" bits and the raw timestamp to the report; its
// values must equal the real decode's, or the oracle fails loudly.
type setValue[T any] struct {
	v   T
	raw []byte
	set bool
}

func (s *setValue[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, &s.v); err != nil {
		return err
	}
	s.raw = append([]byte(nil), b...)
	s.set = true
	return nil
}

type shadowTest struct {
	Address    setValue[string]    `json:"address"`
	Port       setValue[int32]     `json:"port"`
	IngressIdx setValue[int]       `json:"connectionidx"`
	NpName     setValue[string]    `json:"npname"`
	Timestamp  setValue[time.Time] `json:"timestamp"`
}

// entryReport is one decoded entry as the oracle reports it.
type entryReport struct {
	IsNull           bool   `json:"is_null"`
	Address          string `json:"address"`
	HasAddress       bool   `json:"has_address"`
	Port             int32  `json:"port"`
	HasPort          bool   `json:"has_port"`
	ConnectionIdx    int64  `json:"connectionidx"`
	HasConnectionIdx bool   `json:"has_connectionidx"`
	NpName           string `json:"npname"`
	HasNpName        bool   `json:"has_npname"`
	Timestamp        string `json:"timestamp"` // raw text between the quotes
	HasTimestamp     bool   `json:"has_timestamp"`
	Seconds          int64  `json:"timestamp_seconds"` // Unix, UTC
	Nanos            int    `json:"timestamp_nanos"`
}

// decode returns the entries of an accepted body, or why it is refused.
func decode(body []byte) ([]entryReport, error) {
	var list []connTest
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, err
	}
	wrapped := make([]byte, 0, len(body)+6)
	wrapped = append(wrapped, `{"p":`...)
	wrapped = append(wrapped, body...)
	wrapped = append(wrapped, '}')
	var results map[string][]connTest
	if err := json.Unmarshal(wrapped, &results); err != nil {
		return nil, fmt.Errorf("inside /results: %w", err)
	}
	if len(results) != 1 || len(results["p"]) != len(list) {
		panic("oracle: the wrapped decode differs from the body's")
	}

	var shadow []*shadowTest
	if err := json.Unmarshal(body, &shadow); err != nil {
		panic(fmt.Sprintf("oracle: the shadow decode fails where the real one did not: %v", err))
	}
	if len(shadow) != len(list) {
		panic("oracle: the shadow decode has another entry count")
	}
	out := make([]entryReport, len(list))
	for i, e := range list {
		s := shadow[i]
		r := &out[i]
		if s == nil {
			if e != (connTest{}) {
				panic("oracle: a null entry is not a zero connTest")
			}
			r.IsNull = true
			continue
		}
		if s.Address.v != e.Address || s.Port.v != e.Port ||
			s.IngressIdx.v != e.IngressIdx || s.NpName.v != e.NpName ||
			!s.Timestamp.v.Equal(e.Timestamp) {
			panic(fmt.Sprintf("oracle: the shadow decode differs at entry %d", i))
		}
		*r = entryReport{
			Address: e.Address, HasAddress: s.Address.set,
			Port: e.Port, HasPort: s.Port.set,
			ConnectionIdx: int64(e.IngressIdx), HasConnectionIdx: s.IngressIdx.set,
			NpName: e.NpName, HasNpName: s.NpName.set,
			HasTimestamp: s.Timestamp.set,
		}
		if s.Timestamp.set { // it parsed, so its raw text is "..."
			r.Timestamp = string(s.Timestamp.raw[1 : len(s.Timestamp.raw)-1])
			r.Seconds, r.Nanos = e.Timestamp.Unix(), e.Timestamp.Nanosecond()
		}
	}
	return out, nil
}

func serve(in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriterSize(out, 1<<16)
	var header [4]byte
	for {
		if _, err := io.ReadFull(r, header[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		body := make([]byte, binary.BigEndian.Uint32(header[:]))
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		verdict := byte(1)
		var payload []byte
		entries, err := decode(body)
		if err != nil {
			verdict = 0
			payload = []byte(err.Error())
		} else if payload, err = json.Marshal(entries); err != nil {
			return err
		}
		binary.BigEndian.PutUint32(header[:], uint32(len(payload)))
		w.WriteByte(verdict)
		w.Write(header[:])
		w.Write(payload)
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// resultLine is one entry of a decoded /results, for --results.
type resultLine struct {
	Pod           string `json:"pod"`
	Address       string `json:"address"`
	Port          int32  `json:"port"`
	ConnectionIdx int    `json:"connectionidx"`
	NpName        string `json:"npname"`
	UnixNano      int64  `json:"unix_nano"`
}

func decodeResults(name string) error {
	body, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var results map[string][]connTest
	if err := json.Unmarshal(body, &results); err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	for pod, tests := range results {
		for _, t := range tests {
			line := resultLine{pod, t.Address, t.Port, t.IngressIdx, t.NpName,
				t.Timestamp.UnixNano()}
			if err := out.Encode(line); err != nil {
				return err
			}
		}
	}
	return nil
}

func main() {
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "--results" {
		if err := decodeResults(args[1]); err != nil {
			fmt.Fprintln(os.Stderr, "kube-burner-decode:", err)
			os.Exit(1)
		}
		return
	}
	if len(args) == 1 && args[0] == "--serve" {
		if err := serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "kube-burner-decode:", err)
			os.Exit(1)
		}
		return
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: kube-burner-decode --serve | --results FILE | FILE...")
		os.Exit(2)
	}
	status := 0
	for _, name := range args {
		body, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kube-burner-decode:", err)
			status = 2
			continue
		}
		if entries, err := decode(body); err != nil {
			fmt.Printf("%s: reject: %v\n", name, err)
		} else {
			fmt.Printf("%s: accept: %d entries\n", name, len(entries))
		}
	}
	os.Exit(status)
}
