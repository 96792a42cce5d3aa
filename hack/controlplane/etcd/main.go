// Command etcd is the real etcd server v3.6.16, built from the Go module
// proxy. It is byte-for-byte the upstream etcd entry point (etcd's own
// main.go calls etcdmain.Main the same way). Built by ../build.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
