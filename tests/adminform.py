"""Read an admin change form as a browser would submit it, so tests can change a field and POST."""

from bs4 import BeautifulSoup


def form_data(response, form_id=None) -> dict:
    """Return {name: value or [values]} for the form's successful controls (first <form> with an id ending in _form)."""
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    form = soup.find("form", id=form_id) if form_id else soup.find("form", id=lambda v: bool(v) and v.endswith("_form"))
    assert form is not None, "no admin form on the page"
    data: dict[str, list] = {}
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name or element.has_attr("disabled"):
            continue
        if element.name == "input":
            kind = (element.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                continue
            if kind in ("checkbox", "radio") and not element.has_attr("checked"):
                continue
            data.setdefault(name, []).append(element.get("value", "on" if kind == "checkbox" else ""))
        elif element.name == "select":
            chosen = [o.get("value", o.text) for o in element.find_all("option") if o.has_attr("selected")]
            if not chosen and not element.has_attr("multiple"):
                first = element.find("option")
                chosen = [first.get("value", first.text)] if first else []
            data.setdefault(name, []).extend(chosen)
        else:
            data.setdefault(name, []).append(element.text)
    return {name: values if len(values) != 1 else values[0] for name, values in data.items()}
