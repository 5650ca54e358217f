// Wrapper main for building etcd (the server) from the Go module proxy:
// the same entry point as etcd's own server/main.go. Built by
// scripts/tools/install-etcd.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
