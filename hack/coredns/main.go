// CoreDNS for the local cluster, with only the plugins its Corefile uses: the cluster's
// names from the API server, a cache, health and readiness. No forward plugin is
// compiled in, so no query can leave the machine whatever the Corefile says.
package main

import (
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
)

// compiled is every plugin imported above; the server keeps the upstream order of
// directives (it is the order of the plugin chain) but only these.
var compiled = []string{"cache", "errors", "health", "kubernetes", "loadbalance", "log", "prometheus", "ready"}

func init() {
	dnsserver.Directives = slices.DeleteFunc(slices.Clone(dnsserver.Directives), func(d string) bool {
		return !slices.Contains(compiled, d)
	})
}

func main() { coremain.Run() }
