// Command kube is a multi-call binary holding the control-plane components that
// Hermod's test suite runs: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler. Linking them into one binary means the (large) shared
// dependency graph is compiled and linked once instead of four times.
//
// Usage:
//
//	kube etcd [etcd flags]
//	kube apiserver [kube-apiserver flags]
//	kube controller-manager [kube-controller-manager flags]
//	kube scheduler [kube-scheduler flags]
//	kube version
//
// The component is chosen by the first argument, or by the program name when
// the binary is invoked through a symlink named etcd, kube-apiserver, ...
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	_ "time/tzdata" // CronJob time zone support, as in the upstream mains

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric registration
	"k8s.io/component-base/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

var components = map[string]func() *cobra.Command{
	"apiserver":          apiserver.NewAPIServerCommand,
	"controller-manager": controllermanager.NewControllerManagerCommand,
	"scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kube {etcd|apiserver|controller-manager|scheduler|version} [flags...]")
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "kube-")
	args := os.Args[1:]
	if name == "kube" || name == "" {
		if len(args) == 0 {
			usage()
			os.Exit(2)
		}
		name, args = strings.TrimPrefix(args[0], "kube-"), args[1:]
	}

	switch name {
	case "etcd":
		// etcdmain.Main parses args[1:], so keep a program name in front.
		etcdmain.Main(append([]string{"etcd"}, args...))
		return
	case "version", "--version":
		fmt.Println(version.Get().GitVersion)
		return
	}

	newCommand, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "kube: unknown component %q\n", name)
		usage()
		os.Exit(2)
	}
	command := newCommand()
	command.SetArgs(args)
	os.Exit(cli.Run(command))
}
