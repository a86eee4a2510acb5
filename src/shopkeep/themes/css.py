"""The store's stylesheet: the theme's settings as CSS custom properties, then the owner's
custom CSS. Served as a file (the CSP allows no inline style); CSS cannot run script, and the
CSP keeps it from loading anything from another origin."""

from __future__ import annotations

from shopkeep.themes.look import Look


def store_stylesheet(look: Look) -> str:
    props = []
    for option in look.theme.options:
        value = look.options.get(option.key)
        if option.css_var and option.type == "color":
            props.append(f"  {option.css_var}: {value};")
    columns = look.options.get("columns")
    if columns:
        props.append(f"  --columns: {int(columns)};")
    parts = [f"/* {look.theme.label} settings */\n:root {{\n" + "\n".join(props) + "\n}\n"]
    if look.custom_css:
        parts.append("/* custom CSS */\n" + look.custom_css + "\n")
    return "\n".join(parts)
