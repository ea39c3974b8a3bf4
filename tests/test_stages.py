"""Stage contracts: every stage declares what it requires and provides, and every pipeline's order honours them."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from speechledger import api
from speechledger.doc import SpeechDoc, Task


@pytest.mark.parametrize("tokenize", [False, True])
@pytest.mark.parametrize("extractors", api.EXTRACTORS)
def test_every_pipeline_runs_its_stages_after_what_they_require(extractors, tokenize):
    names = api.stage_names(api.Config(extractors=extractors, tokenize=tokenize))
    api.check_order(names)                       # raises on a violation
    have = {"text"}
    for n in names:
        stage = api.STAGES[n]
        assert set(stage.requires) <= have, (n, set(stage.requires) - have)
        have |= set(stage.provides)
    # every mode ends with the full §6 record
    assert {"tasks", "units", "deadlines", "targets", "task.specific"} <= have
    assert ("ml_tasks" in names) == (extractors != "rules")


def test_a_stage_moved_before_its_requirements_is_refused():
    names = api.stage_names(api.Config(extractors="hybrid"))
    names.remove("units")
    names.insert(names.index("tasks"), "units")
    with pytest.raises(RuntimeError, match="units.*requires tasks"):
        api.check_order(names)
    with pytest.raises(RuntimeError, match="unknown"):
        api.check_order(["normalize", "nonsense"])


def test_every_declared_stage_resolves_to_a_doc_to_doc_function():
    for stage in api.STAGES.values():
        fn = stage.load()
        assert list(inspect.signature(fn).parameters)[:2] == ["doc", "config"], stage.name
        assert stage.provides, stage.name


def test_stages_pass_typed_fields_not_untyped_meta_keys():
    fields = {f.name for f in dataclasses.fields(SpeechDoc)}
    assert "meta" not in fields
    assert {"stem", "task_evidence"} <= fields
    assert "p_specific" in {f.name for f in dataclasses.fields(Task)}


def test_a_rules_pipeline_imports_no_learned_layer():
    import subprocess
    import sys
    code = ("import sys; from speechledger.api import Pipeline; Pipeline('rules')('各部门要在6月底前完成排查。'); "
            "sys.exit(1 if any(m.startswith('speechledger.ml.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_gc_paused_restores_the_collector_and_cycles_are_still_collected():
    """Extraction pauses the cyclic collector; afterwards it is on again, what the block kept
    is still there, and a reference cycle dropped later is still collected (the live objects
    were only moved to the oldest generation)."""
    import gc
    import weakref

    from speechledger.api import gc_paused

    class Node:
        pass

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        kept = [Node() for _ in range(1000)]
    assert gc.isenabled() and len(kept) == 1000 and gc.get_freeze_count() == 0
    a, b = Node(), Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    del a, b
    gc.collect()
    assert ref() is None
