// reach is podtrace's in-cluster vantage point for `create --expose`: from inside a pod it tries,
// every -interval, a TCP connect to the Service's cluster IP (-connect IP:PORT) and an A query for
// the Service's name through the pod's own resolver (-resolve NAME=IP, answered right when it
// includes IP), until each has worked or -for has passed. It prints one JSON line per target on
// stdout when that target is settled, with the start times (Unix milliseconds, this node's clock)
// of the try that worked and of the one before it, then exits 0; while a target is not settled it
// prints a line with "pending": true every -report tries (its tries so far and the last error).
// podtrace reads the last lines of the pod's log. Nothing else is written to stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

type result struct {
	What              string   `json:"what"`
	Target            string   `json:"target"`
	OK                bool     `json:"ok"`
	Attempts          int      `json:"attempts"`
	FirstAttemptAt    float64  `json:"firstAttemptAt"`
	AttemptAt         *float64 `json:"attemptAt,omitempty"`
	PreviousAttemptAt *float64 `json:"previousAttemptAt,omitempty"`
	Error             string   `json:"error,omitempty"`
	Pending           bool     `json:"pending,omitempty"`
}

func unixMs(t time.Time) float64 { return float64(t.UnixNano()) / 1e6 }

// until starts a try every interval (a try waits at most -timeout, so several may be in flight: a
// SYN dropped by a route not yet programmed costs its timeout, not the next tries' start) until one
// works or the deadline passes. Once one has worked it lets the tries in flight finish: the result
// is the earliest try that worked, and the latest try before it that failed.
func until(what, target string, interval, timeout time.Duration, deadline time.Time, report int, emit func(result), attempt func(context.Context) error) result {
	type outcome struct {
		n     int
		start time.Time
		err   error
	}
	r := result{What: what, Target: target}
	outcomes := make(chan outcome, 64)
	started, finished, failures := 0, 0, 0
	launch := func() {
		started++
		n, start := started, time.Now()
		if n == 1 {
			r.FirstAttemptAt = unixMs(start)
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			outcomes <- outcome{n, start, attempt(ctx)}
		}()
	}
	var firstOK, lastFail *outcome
	var failedBefore []outcome
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	launch()
	for firstOK == nil || finished < started {
		select {
		case <-ticker.C:
			if firstOK == nil && time.Now().Before(deadline) {
				launch()
			} else if firstOK == nil && finished == started {
				r.Attempts, r.Error = started, lastFail.err.Error()
				return r
			}
		case o := <-outcomes:
			finished++
			if o.err == nil {
				if firstOK == nil || o.n < firstOK.n {
					firstOK = &o
				}
				continue
			}
			failures++
			failedBefore = append(failedBefore, o)
			if lastFail == nil || o.n > lastFail.n {
				lastFail = &o
			}
			if firstOK == nil && report > 0 && failures%report == 0 {
				emit(result{What: what, Target: target, Attempts: started, FirstAttemptAt: r.FirstAttemptAt, Error: lastFail.err.Error(), Pending: true})
			}
			if firstOK == nil && finished == started && !time.Now().Before(deadline) {
				r.Attempts, r.Error = started, lastFail.err.Error()
				return r
			}
		}
	}
	at := unixMs(firstOK.start)
	r.OK, r.Attempts, r.AttemptAt = true, firstOK.n, &at
	for _, f := range failedBefore {
		if f.n < firstOK.n && (r.PreviousAttemptAt == nil || unixMs(f.start) > *r.PreviousAttemptAt) {
			previous := unixMs(f.start)
			r.PreviousAttemptAt = &previous
		}
	}
	return r
}

func main() {
	connectTo := flag.String("connect", "", "IP:PORT to open a TCP connection to")
	resolve := flag.String("resolve", "", "NAME=IP: resolve NAME until the answer includes IP")
	interval := flag.Duration("interval", 100*time.Millisecond, "between the starts of two tries")
	timeout := flag.Duration("timeout", 500*time.Millisecond, "a try without an answer by then failed")
	limit := flag.Duration("for", 2*time.Minute, "give up after this long")
	report := flag.Int("report", 10, "while a target is not settled, print where it stands every this many tries (0: never)")
	flag.Parse()
	if *connectTo == "" && *resolve == "" {
		fmt.Fprintln(os.Stderr, "reach: nothing to try: give -connect IP:PORT and/or -resolve NAME=IP")
		os.Exit(2)
	}
	deadline := time.Now().Add(*limit)
	var mu sync.Mutex
	out := json.NewEncoder(os.Stdout)
	emit := func(r result) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(r)
	}
	var wg sync.WaitGroup
	if *connectTo != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dialer net.Dialer
			emit(until("route", *connectTo, *interval, *timeout, deadline, *report, emit, func(ctx context.Context) error {
				conn, err := dialer.DialContext(ctx, "tcp", *connectTo)
				if err == nil {
					conn.Close()
				}
				return err
			}))
		}()
	}
	if *resolve != "" {
		name, want, ok := strings.Cut(*resolve, "=")
		if !ok || name == "" || net.ParseIP(want) == nil {
			fmt.Fprintf(os.Stderr, "reach: -resolve %q: want NAME=IP\n", *resolve)
			os.Exit(2)
		}
		fqdn := strings.TrimSuffix(name, ".") + "."
		// the pod's resolver (its /etc/resolv.conf, as the kubelet wrote it), without any cache
		resolver := &net.Resolver{PreferGo: true}
		wg.Add(1)
		go func() {
			defer wg.Done()
			emit(until("dns", name, *interval, *timeout, deadline, *report, emit, func(ctx context.Context) error {
				addrs, err := resolver.LookupHost(ctx, fqdn)
				if err != nil {
					return err
				}
				for _, a := range addrs {
					if a == want {
						return nil
					}
				}
				return fmt.Errorf("answered %s", strings.Join(addrs, ", "))
			}))
		}()
	}
	wg.Wait()
}
