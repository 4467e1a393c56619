package main

// -T fields -e NAME (field extraction): the flags (pipeline.Fields checks
// them).

import (
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/pipeline"
)

// addFieldsFlags registers -T, -e and -E (tshark's names).
func addFieldsFlags(f *pflag.FlagSet, fl *pipeline.Fields) {
	f.StringVarP(&fl.T, "T", "T", "", "output `fields`: tab-separated values of the -e fields, one line per record (tshark's -T fields)")
	f.StringArrayVarP(&fl.Fields, "field", "e", nil, "with -T fields: a field to print, by its jsonl `NAME` (app.type, close_code; repeatable)")
	f.StringArrayVarP(&fl.E, "E", "E", nil, "with -T fields: header=y prints the field names first")
}
