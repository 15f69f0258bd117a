//go:build tools

// Package tools pins the Jaeger v2 command this module builds.
package tools

import _ "github.com/jaegertracing/jaeger/cmd/jaeger"
