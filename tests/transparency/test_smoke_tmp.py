import pytest
from haochaping.transparency import services, proofs, replay, rules

pytestmark = pytest.mark.django_db

def test_smoke(rate):
    evs = [rate(level=l) for l in (5, 4, 1, 3)]
    cp = services.seal()
    assert cp.tree_size == 4
    assert services.seal() is None
    p = proofs.inclusion(2)
    assert rules.verify_inclusion(2, 4, rules.leaf_hash(p.leaf.body.encode()), [bytes.fromhex(h) for h in p.path], bytes.fromhex(cp.root_hash))
    rate(level=2)
    cp2 = services.seal()
    print(proofs.consistency(4, 5))
    r = replay.replay()
    assert r.ok, r.findings
