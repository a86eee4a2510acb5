from shopkeep.catalog.safe_repeat import looks_safe_to_repeat


def test_rank_and_permission_forms_are_suggested():
    assert looks_safe_to_repeat(["lp user {player} parent add vip"])
    assert looks_safe_to_repeat(["/lp user {player} permission set fly.use true",
                                 "whitelist add {player}"])
    assert looks_safe_to_repeat(["oxide.usergroup add {steam_id} vip"])


def test_giving_things_is_not_suggested():
    assert not looks_safe_to_repeat(["give {player} diamond 1"])
    assert not looks_safe_to_repeat(["eco give {player} 100"])
    assert not looks_safe_to_repeat(["lp user {player} parent add vip", "say thanks {player}"])
    assert not looks_safe_to_repeat([])
