package protocol

import "sort"

// work is a set of connectors and tasks.
type work struct {
	conns map[string]bool
	tasks map[TaskID]bool
}

func newWork() work { return work{conns: map[string]bool{}, tasks: map[TaskID]bool{}} }

func (w work) empty() bool { return len(w.conns) == 0 && len(w.tasks) == 0 }

func (w work) add(o work) {
	for c := range o.conns {
		w.conns[c] = true
	}
	for t := range o.tasks {
		w.tasks[t] = true
	}
}

func (w work) addLists(conns []string, tasks []TaskID) {
	for _, c := range conns {
		w.conns[c] = true
	}
	for _, t := range tasks {
		w.tasks[t] = true
	}
}

// minus returns w without anything in the others.
func (w work) minus(others ...work) work {
	out := newWork()
	for c := range w.conns {
		out.conns[c] = true
	}
	for t := range w.tasks {
		out.tasks[t] = true
	}
	for _, o := range others {
		for c := range o.conns {
			delete(out.conns, c)
		}
		for t := range o.tasks {
			delete(out.tasks, t)
		}
	}
	return out
}

func (w work) sortedConns() []string {
	out := make([]string, 0, len(w.conns))
	for c := range w.conns {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func (w work) sortedTasks() []TaskID {
	out := make([]TaskID, 0, len(w.tasks))
	for t := range w.tasks {
		out = append(out, t)
	}
	SortTasks(out)
	return out
}

// load is one worker's ordered connectors and tasks (Java's WorkerLoad).
type load struct {
	worker string
	conns  []string
	tasks  []TaskID
}

func (l *load) empty() bool { return len(l.conns) == 0 && len(l.tasks) == 0 }

// remove drops everything in w from the load, keeping the order.
func (l *load) remove(w work) {
	conns := l.conns[:0]
	for _, c := range l.conns {
		if !w.conns[c] {
			conns = append(conns, c)
		}
	}
	l.conns = conns
	tasks := l.tasks[:0]
	for _, t := range l.tasks {
		if !w.tasks[t] {
			tasks = append(tasks, t)
		}
	}
	l.tasks = tasks
}

func (l *load) work() work {
	w := newWork()
	w.addLists(l.conns, l.tasks)
	return w
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
