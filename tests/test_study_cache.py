"""The admin page builds the report once per change of the study, not on every rerun."""

from __future__ import annotations

from apphelp import seed_sample

from reviewer.app.study_cache import current_report
from reviewer.labeling import session


def test_the_report_is_rebuilt_only_when_its_inputs_change(cli, store):
    tokens = seed_sample(cli, "Ana")
    first = current_report(store, "demo")
    again = current_report(store, "demo")
    # The same build (same timestamp) comes back while nothing changed.
    assert again.appendix.generated_at == first.appendix.generated_at
    assert again == first

    who = session.login(store, tokens["Ana"])
    view = session.open_next(store, who)
    assert session.submit(store, who, view.view_id, "1")
    after_label = current_report(store, "demo")
    assert after_label.appendix.generated_at > first.appendix.generated_at
    labels = {a.name: a.labels for a in after_label.annotators}
    assert labels["Ana"] == 1 and {a.name: a.labels for a in first.annotators}["Ana"] == 0

    assert cli("unblind", "-s", "demo").code == 0  # an event, with no new label
    after_event = current_report(store, "demo")
    assert after_event.appendix.generated_at > after_label.appendix.generated_at
    assert after_event.appendix.unblinded_by == "tester"
