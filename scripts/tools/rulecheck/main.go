// rulecheck validates Prometheus rule files as `promtool check rules` does: YAML structure,
// every expression parsed by PromQL's parser, templates, and durations, through the same
// package (rulefmt) that Prometheus uses to load them. A small build instead of promtool's,
// which pulls in every service-discovery SDK.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rulecheck FILE...")
		os.Exit(2)
	}
	failed := false
	promql := parser.NewParser(parser.Options{})
	logger := slog.New(slog.DiscardHandler)
	for _, file := range os.Args[1:] {
		groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, promql, logger)
		if len(errs) > 0 {
			failed = true
			for _, err := range errs {
				fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
			}
			continue
		}
		rules := 0
		for _, g := range groups.Groups {
			rules += len(g.Rules)
		}
		fmt.Printf("%s: SUCCESS: %d rules found\n", file, rules)
	}
	if failed {
		os.Exit(1)
	}
}
