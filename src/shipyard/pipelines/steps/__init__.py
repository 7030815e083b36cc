"""The built-in kinds of step, one module each. A module defines ``KIND``, a
:class:`~shipyard.pipelines.StepKind`: its typed arguments and outputs, a version (bump it
when what the kind does changes, so cached results are not reused), and what it runs, which
calls one public function of a Shipyard room. Add a kind: write a module here and name it in
``shipyard.pipelines._kinds.BUILTIN``."""
