package main

// parquetFlags checks the flags of --format parquet: -o is then the
// directory of the datasets (it is "wide" for a table otherwise).
func (o *decodeOptions) parquetFlags() error {
	if o.Format != "parquet" {
		return nil
	}
	o.OutDir, o.Table.Output = o.Table.Output, ""
	switch {
	case o.OutDir == "" || o.OutDir == "-":
		return usageErr("--format parquet writes a directory of files: give it with -o DIR")
	case o.Fields.T != "":
		return usageErr("-T fields writes text to standard output: drop --format parquet")
	case o.Stable:
		return usageErr("--stable is for text output (golden files): drop it with --format parquet")
	}
	return nil
}
