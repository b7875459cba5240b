package convert

// DataException is a conversion failure, named after and worded as Java's
// org.apache.kafka.connect.errors.DataException so that error messages
// (and the traces in task status) read the same.
type DataException struct {
	Msg   string
	Cause error
}

func (e *DataException) Error() string {
	if e.Cause != nil {
		return e.Msg + " " + e.Cause.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *DataException) Unwrap() error { return e.Cause }

func dataErr(msg string) error { return &DataException{Msg: msg} }

func dataErrCause(msg string, cause error) error { return &DataException{Msg: msg, Cause: cause} }
