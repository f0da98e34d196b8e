import pytest

from gonghao.testing.crm import make_crm_cast


@pytest.fixture
def crm(db):
    return make_crm_cast()
