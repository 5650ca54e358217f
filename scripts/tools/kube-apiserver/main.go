// Wrapper main for building the real kube-apiserver from the Go module proxy.
// k8s.io/kubernetes cannot be `go install`ed directly (its go.mod replaces the
// staging modules with local paths); go.mod here replaces each of them with its
// published v0.x version instead. Built by scripts/tools/install-kube-apiserver.sh.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
