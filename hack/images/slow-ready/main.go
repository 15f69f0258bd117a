// slow-ready serves HTTP on $PORT (default 8080). /ready answers 503 until
// $READY_AFTER seconds (default 10) have passed since start, then 200, so a
// readiness probe on it fails a known number of times before the pod is Ready.
// Every other path answers 200 at once, for liveness probes.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	delay := 10 * time.Second
	if v := os.Getenv("READY_AFTER"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 {
			log.Fatalf("READY_AFTER=%q: want a number of seconds", v)
		}
		delay = time.Duration(secs * float64(time.Second))
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	readyAt := time.Now().Add(delay)
	http.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if left := time.Until(readyAt); left > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready for another %.1fs\n", left.Seconds())
			return
		}
		fmt.Fprintln(w, "ready")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	log.Printf("listening on :%s, ready after %s", port, delay)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
