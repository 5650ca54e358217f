//go:build tools

// Keeps the prometheus-operator monitoring API types in go.mod/go.sum: they
// are not compiled into kube-schemas, but controller-gen (a `tool` in go.mod)
// loads them to generate the monitoring.coreos.com CRDs.
package main

import (
	_ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)
