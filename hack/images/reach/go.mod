module podtrace.local/hack/images/reach

go 1.24.0
