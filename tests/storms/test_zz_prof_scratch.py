import cProfile, pstats, io
from tests.storms.conftest import complaint

async def test_prof(app):
    ms=[complaint(n) for n in range(1, 201)]
    pr=cProfile.Profile(); pr.enable()
    await app.service.ingest_many(ms)
    pr.disable()
    s=io.StringIO(); pstats.Stats(pr,stream=s).sort_stats("cumulative").print_stats(40); print(s.getvalue()[:9000])
