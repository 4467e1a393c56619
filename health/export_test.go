package health

// Timeline is timeline, for the tests outside the package.
var Timeline = timeline
