package health_test

import (
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/report"
)

func init() {
	health.Glance, health.CloseText, health.Dur = report.Glance, report.CloseText, report.Dur
}
