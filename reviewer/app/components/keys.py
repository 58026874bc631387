"""Enter submits the label from anywhere on the page but a text box.

Streamlit's `shortcut="Enter"` does not fire while a segmented control, a checkbox or a toggle
has the focus (they handle Enter themselves and stop it), so after a click on a criterion Enter
toggled that criterion instead of submitting. This fixed script of ours, added once per page with
`st.html(..., unsafe_allow_javascript=True)`, catches Enter first (capture phase) whenever the
focus is not in a text field, and clicks the page's one form submit button instead. It is a
constant: nothing a model wrote, and no study text, is ever passed to that call. Ctrl+Enter in
the "Why?" box needs no script: it submits its `st.form` (Streamlit's own behaviour).
"""

from __future__ import annotations

import streamlit as st

SCRIPT = """<script>
(() => {
  if (window.__signoffEnter) return;
  window.__signoffEnter = true;
  const NOT_TEXT = ["checkbox", "radio", "range", "button", "submit", "reset", "file", "color"];
  const typing = (el) => el.isContentEditable || el.tagName === "TEXTAREA" ||
    el.tagName === "SELECT" || (el.tagName === "INPUT" && !NOT_TEXT.includes(el.type));
  window.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
    if (e.isComposing) return;
    const target = e.target;
    if (!(target instanceof HTMLElement) || target === document.body || typing(target)) return;
    const submit = document.querySelector("[data-testid=stFormSubmitButton] button");
    if (!submit || submit.disabled) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    target.blur();
    submit.click();
  }, true);
})();
</script>"""


def enter_submits() -> None:
    """Add the Enter handler to the page (idempotent in the browser)."""
    st.html(SCRIPT, unsafe_allow_javascript=True)
