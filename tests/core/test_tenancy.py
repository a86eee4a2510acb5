import pytest

from shopkeep.core.tenancy import NotFound, get_for_store
from shopkeep.stores.models import ApiToken
from tests.factories import make_store, make_token


@pytest.mark.django_db
def test_missing_and_foreign_objects_are_the_same_not_found():
    mine, theirs = make_store(), make_store()
    their_token, _ = make_token(theirs, ["store:read"])
    with pytest.raises(NotFound) as foreign:
        get_for_store(ApiToken, mine, pk=their_token.pk)
    with pytest.raises(NotFound) as missing:
        get_for_store(ApiToken, mine, pk=999_999)
    assert str(foreign.value) == str(missing.value)


@pytest.mark.django_db
def test_a_malformed_id_is_not_found_rather_than_a_server_error():
    store = make_store()
    with pytest.raises(NotFound):
        get_for_store(ApiToken, store, pk="not-a-number")


@pytest.mark.django_db
def test_an_own_object_is_found_through_a_queryset_too():
    store = make_store()
    token, _ = make_token(store, ["store:read"])
    assert get_for_store(ApiToken.objects.filter(revoked_at__isnull=True), store,
                         pk=token.pk) == token
