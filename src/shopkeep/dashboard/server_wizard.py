"""What the server-connect wizard tells a newcomer for each game: where the game's remote
console is switched on, and how that password reaches the agent (its [game] section takes
``password_file``, a file holding only the password, or an inline ``password``)."""

from __future__ import annotations

from shopkeep.delivery.connection import AGENT_GAMES

CONFIG_PATH = "/etc/shopkeep-agent/agent.toml"
PASSWORD_FILE = "/etc/shopkeep-agent/rcon.secret"

# game -> (where the settings go, the lines to put there; {port} is the adapter's port)
RCON_SETTINGS: dict[str, tuple[str, str]] = {
    "minecraft": ("server.properties, in the Minecraft server's folder (restart the server "
                  "after saving)",
                  "enable-rcon=true\nrcon.port={port}\nrcon.password=CHOOSE-A-LONG-PASSWORD"),
    "rust": ("the server's start command (launch options)",
             "+rcon.web 1 +rcon.port {port} +rcon.password \"CHOOSE-A-LONG-PASSWORD\""),
    "ark": ("the server's start command (launch options)",
            "?RCONEnabled=True?RCONPort={port}?ServerAdminPassword=CHOOSE-A-LONG-PASSWORD"),
    "cs2": ("the server's start command", "-usercon +rcon_password CHOOSE-A-LONG-PASSWORD "
            "-port {port}"),
    "gmod": ("the server's start command", "-usercon +rcon_password CHOOSE-A-LONG-PASSWORD "
             "-port {port}"),
    "fivem": ("server.cfg", "rcon_password \"CHOOSE-A-LONG-PASSWORD\""),
    "redm": ("server.cfg", "rcon_password \"CHOOSE-A-LONG-PASSWORD\""),
    "dayz": ("battleye/beserver_x64.cfg", "RConPassword CHOOSE-A-LONG-PASSWORD\n"
             "RConPort {port}"),
    "arma3": ("battleye/beserver_x64.cfg", "RConPassword CHOOSE-A-LONG-PASSWORD\n"
              "RConPort {port}"),
    "7dtd": ("serverconfig.xml",
             "<property name=\"TelnetEnabled\" value=\"true\"/>\n"
             "<property name=\"TelnetPort\" value=\"{port}\"/>\n"
             "<property name=\"TelnetPassword\" value=\"CHOOSE-A-LONG-PASSWORD\"/>"),
}


def wizard_for(game: str) -> dict[str, str]:
    _adapter, port, _flavour = AGENT_GAMES.get(game, AGENT_GAMES["minecraft"])
    where, lines = RCON_SETTINGS.get(game, RCON_SETTINGS["minecraft"])
    return {
        "install": "python3 -m venv /opt/shopkeep-agent\n"
                   "/opt/shopkeep-agent/bin/pip install ./agent   # from a Shopkeep checkout",
        "rcon_where": where,
        "rcon_lines": lines.format(port=port),
        "password_file": PASSWORD_FILE,
        "password_command": f"sudo install -m 600 /dev/null {PASSWORD_FILE}\n"
                            f"echo 'CHOOSE-A-LONG-PASSWORD' | sudo tee {PASSWORD_FILE} "
                            ">/dev/null",
        "config_path": CONFIG_PATH,
        "run": f"/opt/shopkeep-agent/bin/shopkeep-agent -c {CONFIG_PATH} run",
    }
