import pytest
from django.contrib.auth import authenticate

from shopkeep.accounts.models import User
from shopkeep.catalog.models import Product
from shopkeep.cli import main
from shopkeep.stores.models import Membership, Role, Store


@pytest.mark.django_db
def test_demo_creates_a_store_whose_printed_owner_can_sign_in(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    email, _slash, password = out.split("Owner login:")[1].split()[:3]
    user = authenticate(email=email, password=password)
    assert user is not None
    assert Membership.objects.get(user=user, store__slug="demo").role == Role.OWNER
    # The second demo store (on the Free plan, beside Demo Craft on Growth).
    assert Membership.objects.get(user=user, store__slug="demo-survival").role == Role.OWNER
    assert "Plans:" in out
    assert Store.objects.get(slug="demo").name == "Demo Craft"
    kit = Product.objects.get(store__slug="demo", slug="diamond-kit")
    assert kit.delivery_actions.get(trigger="purchase").require_online
    assert "Storefront:" in out


@pytest.mark.django_db
def test_demo_is_idempotent_and_refreshes_the_password(capsys):
    main(["demo"])
    main(["demo"])
    out = capsys.readouterr().out
    last_password = out.split("Owner login:")[-1].split()[2]
    assert Store.objects.filter(slug="demo").count() == 1
    assert Membership.objects.filter(store__slug="demo").count() == 1
    assert Product.objects.filter(store__slug="demo").count() == 7
    # The demo storefront: every product has an image, the design is published, a page exists.
    assert not Product.objects.filter(store__slug="demo", image="").exists()
    demo = Store.objects.get(slug="demo")
    assert demo.storefront.published["widgets"]["goal"] is True
    assert demo.pages.filter(slug="rules", is_published=True).count() == 1
    assert authenticate(email="owner@demo.shopkeep.test", password=last_password) is not None


@pytest.mark.django_db
def test_createstaff_makes_a_verified_staff_account(monkeypatch, capsys):
    monkeypatch.setenv("SHOPKEEP_STAFF_PASSWORD", "staff-password-long")
    assert main(["createstaff", "Ops@Example.com"]) == 0
    user = User.objects.get(email="ops@example.com")
    assert user.is_staff and not user.is_superuser
    assert user.emailaddress_set.get().verified


@pytest.mark.django_db
def test_createstaff_refuses_a_short_password_and_creates_nothing(monkeypatch):
    monkeypatch.setenv("SHOPKEEP_STAFF_PASSWORD", "short")
    assert main(["createstaff", "ops@example.com"]) == 2
    assert not User.objects.exists()


@pytest.mark.django_db
def test_createstaff_promotes_an_existing_user(monkeypatch):
    User.objects.create_user(email="ops@example.com", password="x" * 12)
    assert main(["createstaff", "ops@example.com"]) == 0
    assert User.objects.get(email="ops@example.com").is_staff


def test_serve_raises_the_soft_open_file_limit_to_the_hard_one():
    """Held long-polls are open sockets: `shopkeep serve` lifts a low soft limit first."""
    import subprocess
    import sys

    script = (
        "import resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "from shopkeep.cli import raise_open_files\n"
        "got = raise_open_files()\n"
        "print(got, *resource.getrlimit(resource.RLIMIT_NOFILE))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    got, soft, hard = (int(v) for v in out)
    assert got == soft == hard and soft > 256
