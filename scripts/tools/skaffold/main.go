// Wrapper main for building Skaffold from the Go module proxy (its go.mod has replace directives, so
// `go install` is refused; go.mod here repeats them). The body is skaffold's cmd/skaffold/skaffold.go
// without the Cloud Profiler hook. Built by scripts/tools/install-skaffold.sh.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold/app"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/instrumentation"
)

func main() {
	var code int
	if err := app.Run(os.Stdout, os.Stderr); err != nil && !errors.Is(err, context.Canceled) {
		code = app.ExitCode(err)
	}
	instrumentation.ShutdownAndFlush(context.Background(), code)
	os.Exit(code)
}
