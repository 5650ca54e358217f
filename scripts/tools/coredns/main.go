// Wrapper main for a CoreDNS with only the plugins the local cluster's DNS needs (npm run cluster:up):
// the cluster.local zone from the Kubernetes API, forwarding for everything else, caching, health and
// readiness. CoreDNS's own main imports every plugin (cloud DNS providers included); importing a subset
// and listing them in dnsserver.Directives, in CoreDNS's order, is its documented way to build a smaller
// server. Built by scripts/tools/install-coredns.sh.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The imported plugins, in the order of CoreDNS's plugin.cfg (the order a query passes through them).
var directives = map[string]bool{
	"bind": true, "cache": true, "errors": true, "forward": true, "health": true, "kubernetes": true,
	"loadbalance": true, "log": true, "loop": true, "ready": true, "reload": true,
}

func init() {
	ordered := make([]string, 0, len(directives))
	for _, name := range dnsserver.Directives {
		if directives[name] {
			ordered = append(ordered, name)
		}
	}
	dnsserver.Directives = ordered
}

func main() {
	coremain.Run()
}
