"""Build the themes' vendored web fonts from Debian's Liberation fonts (SIL OFL 1.1).

Run once by a maintainer when the character set changes; the output is committed, so no
install, build or page ever fetches a font from anywhere. Needs fontTools and brotli
(maintainer tools only, not dependencies of Shopkeep):
    pip install fonttools==4.68.0 brotli==1.2.1 && python scripts/build_theme_fonts.py
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset

SOURCE = Path("/usr/share/fonts/truetype/liberation")
THEMES = Path(__file__).resolve().parents[1] / "src/shopkeep/themes"
# Basic Latin, Latin-1, typographic quotes, dashes, bullet, ellipsis, euro, arrows, times.
UNICODES = "U+0020-007E,U+00A0-00FF,U+2013-2014,U+2018-201D,U+2022,U+2026,U+20AC,U+2190-2193,U+00D7"
FONTS = {
    "default": ["LiberationSans-Regular", "LiberationSans-Bold"],
    "midnight": ["LiberationSansNarrow-Bold"],
}


def main() -> None:
    for theme, names in FONTS.items():
        out_dir = THEMES / theme / "static/themes" / theme / "fonts"
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            target = out_dir / f"{name}.woff2"
            subset.main([str(SOURCE / f"{name}.ttf"), f"--unicodes={UNICODES}",
                         "--flavor=woff2", "--no-hinting", "--layout-features=kern,liga",
                         f"--output-file={target}"])
            print(f"{target.relative_to(THEMES)}: {target.stat().st_size} bytes")
        (out_dir / "LICENSE.txt").write_text(
            Path("/usr/share/doc/fonts-liberation/copyright").read_text())


if __name__ == "__main__":
    main()
