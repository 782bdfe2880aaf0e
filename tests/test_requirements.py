"""The declared requirements are true: settings.ini's floors are at least what the code needs, and the tested set
pinned in constraints.txt satisfies settings.ini's ranges."""
import configparser, shlex
from pathlib import Path
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# package -> (the lowest version the code needs, the call that needs it)
NEEDS = {
    'scipy': ('1.15', "scipy.stats.bootstrap(rng=...) in graphreg.study; scipy.stats.false_discovery_control"),
    'torch': ('2.4', "torch.is_autocast_enabled(device_type) in graphreg.regularizer and graphreg.job"),
    'tomli-w': ('1.0', "tomli_w.dumps in graphreg.config"),
    'submitit': ('1.5', "submitit.AutoExecutor/LocalExecutor/DebugExecutor in graphreg.launch"),
    'pandas': ('2.0', "DataFrame.groupby(..., dropna=False) with pivot_table(sort=False)"),
}

def _settings():
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    return cfg['DEFAULT']

def _reqs(key):
    return {Requirement(r).name.lower().replace('_', '-'): Requirement(r) for r in shlex.split(_settings().get(key, ''))}

def _floor(req):
    lows = [Version(s.version) for s in req.specifier if s.operator in ('>=', '==', '~=')]
    return max(lows) if lows else None

def test_floors_cover_what_the_code_uses():
    reqs = _reqs('requirements')
    for name, (need, why) in NEEDS.items():
        assert name in reqs, f"{name} is used ({why}) but not declared in settings.ini"
        floor = _floor(reqs[name])
        assert floor is not None and floor >= Version(need), f"settings.ini says {reqs[name]}, but {why} needs {name} >= {need}"

def test_pinned_set_satisfies_declared_ranges():
    pins = {}
    for line in (ROOT/'constraints.txt').read_text().splitlines():
        line = line.split('#')[0].strip()
        if '==' in line:
            name, v = line.split('==', 1); pins[name.strip().lower().replace('_', '-')] = v.strip()
    for key in ('requirements', 'dev_requirements', 'ddp_requirements'):
        for name, req in _reqs(key).items():
            assert name in pins, f"{name} ({key}) has no pinned version in constraints.txt"
            assert req.specifier.contains(pins[name], prereleases=True), f"constraints.txt pins {name}=={pins[name]} outside {req}"

def test_extras_are_installable_names():
    # accelerate is only needed for DDP (fastai.distributed): an extra, not a requirement
    assert 'accelerate' not in _reqs('requirements') and 'accelerate' in _reqs('ddp_requirements')
