module podtrace.local/hack/images/slow-ready

go 1.24.0
