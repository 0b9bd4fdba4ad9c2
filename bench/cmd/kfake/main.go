// Command kfake serves one franz-go kfake broker (an in-memory fake Kafka)
// on 127.0.0.1 until it gets SIGINT or SIGTERM: the peer that `make bench`
// measures Samsa against, in a process of its own so that its CPU time can
// be read from /proc.
//
//	go run ./bench/cmd/kfake -port 9093
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9093, "port to listen on, on 127.0.0.1 (0: any free port)")
	partitions := flag.Int("partitions", 3, "partitions of auto-created topics and of CreateTopics with -1")
	flag.Parse()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(*port),
		kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(*partitions))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Println("kfake listening on", c.ListenAddrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	c.Close()
}
