//go:build tools

// Package tools pins the kube-burner command this module builds.
package tools

import _ "github.com/kube-burner/kube-burner/cmd/kube-burner"
