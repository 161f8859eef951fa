# Bad hyperparameters for every optimizer and scheduler: one table, each row the call (written once, run with
# tinygrad_rnn and with torch), our exception and message, and what torch does with the same call (its exception,
# or None where torch accepts it and we are stricter: NaN, infinity, a step size of 0, ...). Checked both ways.
import math
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn

NAN, INF = math.nan, math.inf


def _param(L):
    return nn.Parameter(np.ones(3)) if L is tr else L.ones(3, requires_grad=True)


def sgd(L, p, **kw):
    return L.optim.SGD([p], **{"lr": 0.1, **kw})


def sched(name, **kw):
    return lambda L, p: getattr(L.optim.lr_scheduler, name)(sgd(L, p), **kw)


def adagrad_onecycle(L, p):
    return L.optim.lr_scheduler.OneCycleLR(L.optim.Adagrad([p]), max_lr=0.1, total_steps=10)


def other_optimizer(L, p):
    o1, o2 = sgd(L, p), sgd(L, _param(L))
    return L.optim.lr_scheduler.SequentialLR(o1, [L.optim.lr_scheduler.StepLR(o1, 2),
                                                  L.optim.lr_scheduler.StepLR(o2, 2)], milestones=[3])


def plateau_in_sequence(L, p):
    o = sgd(L, p)
    return L.optim.lr_scheduler.SequentialLR(o, [L.optim.lr_scheduler.StepLR(o, 2),
                                                 L.optim.lr_scheduler.ReduceLROnPlateau(o)], milestones=[3])


def sequential(milestones):
    def make(L, p):
        o = sgd(L, p)
        m = L.optim.lr_scheduler
        return m.SequentialLR(o, [m.StepLR(o, 2), m.ExponentialLR(o, 0.9), m.ConstantLR(o)], milestones=milestones)
    return make


def resume_without_initial_lr(L, p):
    return L.optim.lr_scheduler.StepLR(sgd(L, p), 3, last_epoch=5)


# (id, call(L, p), our exception, our message regex, torch's exception or None where torch accepts the call)
ROWS = [
    # ----- optimizers
    ("SGD-lr-negative", lambda L, p: sgd(L, p, lr=-0.1), ValueError, r"^SGD: invalid lr=-0.1; expected a finite "
                                                                     r"number >= 0$", ValueError),
    ("SGD-lr-nan", lambda L, p: sgd(L, p, lr=NAN), ValueError, r"^SGD: invalid lr=nan", None),
    ("SGD-lr-inf", lambda L, p: sgd(L, p, lr=INF), ValueError, r"^SGD: invalid lr=inf", None),
    ("SGD-lr-str", lambda L, p: sgd(L, p, lr="0.1"), TypeError, r"^SGD: lr must be a number, got str '0.1'",
     TypeError),
    ("SGD-momentum-negative", lambda L, p: sgd(L, p, momentum=-0.5), ValueError, r"invalid momentum=-0.5",
     ValueError),
    ("SGD-momentum-nan", lambda L, p: sgd(L, p, momentum=NAN), ValueError, r"invalid momentum=nan", None),
    ("SGD-weight-decay", lambda L, p: sgd(L, p, weight_decay=-1), ValueError, r"invalid weight_decay=-1", ValueError),
    ("SGD-dampening-nan", lambda L, p: sgd(L, p, dampening=NAN), ValueError, r"invalid dampening=nan", None),
    ("SGD-nesterov-no-momentum", lambda L, p: sgd(L, p, nesterov=True), ValueError,
     r"^SGD: nesterov=True requires momentum > 0 and dampening 0, got momentum=0 and dampening=0$", ValueError),
    ("SGD-nesterov-dampening", lambda L, p: sgd(L, p, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     r"got momentum=0.9 and dampening=0.1", ValueError),
    ("SGD-differentiable", lambda L, p: sgd(L, p, differentiable=True), ValueError,
     r"^SGD: differentiable=True is not supported", None),
    ("Adam-lr-nan", lambda L, p: L.optim.Adam([p], lr=NAN), ValueError, r"^Adam: invalid lr=nan", ValueError),
    ("Adam-beta1-one", lambda L, p: L.optim.Adam([p], betas=(1.0, 0.999)), ValueError,
     r"^Adam: invalid betas\[0\]=1.0; expected a finite number in \[0, 1\)$", ValueError),
    ("Adam-beta2-negative", lambda L, p: L.optim.Adam([p], betas=(0.9, -0.1)), ValueError,
     r"invalid betas\[1\]=-0.1", ValueError),
    ("Adam-beta-nan", lambda L, p: L.optim.Adam([p], betas=(NAN, 0.999)), ValueError, r"invalid betas\[0\]=nan",
     ValueError),
    ("Adam-betas-one-value", lambda L, p: L.optim.Adam([p], betas=(0.9,)), TypeError,
     r"^Adam: betas must be a pair \(beta1, beta2\), got \(0.9,\)$", IndexError),
    ("Adam-eps-negative", lambda L, p: L.optim.Adam([p], eps=-1e-8), ValueError, r"invalid eps=-1e-08", ValueError),
    ("Adam-eps-nan", lambda L, p: L.optim.Adam([p], eps=NAN), ValueError, r"invalid eps=nan", ValueError),
    ("Adam-weight-decay-nan", lambda L, p: L.optim.Adam([p], weight_decay=NAN), ValueError,
     r"invalid weight_decay=nan", ValueError),
    ("AdamW-lr", lambda L, p: L.optim.AdamW([p], lr=-1), ValueError, r"^AdamW: invalid lr=-1", ValueError),
    ("AdamW-weight-decay", lambda L, p: L.optim.AdamW([p], weight_decay=-0.01), ValueError,
     r"^AdamW: invalid weight_decay=-0.01", ValueError),
    ("RMSprop-alpha", lambda L, p: L.optim.RMSprop([p], alpha=-0.1), ValueError, r"^RMSprop: invalid alpha=-0.1",
     ValueError),
    ("RMSprop-alpha-nan", lambda L, p: L.optim.RMSprop([p], alpha=NAN), ValueError, r"invalid alpha=nan", ValueError),
    ("RMSprop-momentum", lambda L, p: L.optim.RMSprop([p], momentum=-1), ValueError, r"invalid momentum=-1",
     ValueError),
    ("RMSprop-eps", lambda L, p: L.optim.RMSprop([p], eps=-1), ValueError, r"invalid eps=-1", ValueError),
    ("RMSprop-lr-nan", lambda L, p: L.optim.RMSprop([p], lr=NAN), ValueError, r"invalid lr=nan", ValueError),
    ("Adagrad-lr-decay", lambda L, p: L.optim.Adagrad([p], lr_decay=-0.1), ValueError,
     r"^Adagrad: invalid lr_decay=-0.1", ValueError),
    ("Adagrad-initial-accumulator", lambda L, p: L.optim.Adagrad([p], initial_accumulator_value=-1), ValueError,
     r"invalid initial_accumulator_value=-1", ValueError),
    ("Adagrad-eps-nan", lambda L, p: L.optim.Adagrad([p], eps=NAN), ValueError, r"invalid eps=nan", ValueError),
    ("Adagrad-lr-inf", lambda L, p: L.optim.Adagrad([p], lr=INF), ValueError, r"invalid lr=inf", None),
    ("empty-params", lambda L, p: L.optim.Adam([]), ValueError, r"^Adam: got an empty parameter list$", ValueError),
    ("non-leaf", lambda L, p: L.optim.SGD([p * 2], lr=0.1), ValueError, r"^SGD: can't optimize a non-leaf Tensor",
     ValueError),
    ("single-tensor", lambda L, p: L.optim.SGD(p, lr=0.1), TypeError, r"^SGD: params should be an iterable",
     TypeError),
    ("params-none", lambda L, p: L.optim.SGD(None, lr=0.1), TypeError, r"^SGD: params should be an iterable of "
                                                                       r"Tensors or dicts, got NoneType$", TypeError),
    ("step-closure-not-callable", lambda L, p: sgd(L, p).step(closure=5), TypeError,
     r"^SGD.step: closure must be callable \(it recomputes the loss\), got int$", TypeError),
    ("set-of-params", lambda L, p: L.optim.SGD({p}, lr=0.1), TypeError, r"^SGD: params must be an ordered "
                                                                        r"collection", None),  # torch: in groups
    ("set-in-group", lambda L, p: L.optim.SGD([{"params": {p}}], lr=0.1), TypeError,
     r"^SGD: a group's params must be an ordered collection \(a list\), got a set$", TypeError),
    ("duplicate-param", lambda L, p: L.optim.SGD([p, p], lr=0.1), ValueError, r"^SGD: a parameter appears twice",
     None),  # torch only warns
    # ----- schedulers
    ("StepLR-step-size-0", sched("StepLR", step_size=0), ValueError, r"^StepLR: invalid step_size=0; expected an "
                                                                     r"int >= 1$", None),
    ("StepLR-step-size-float", sched("StepLR", step_size=2.5), TypeError, r"^StepLR: step_size must be an int, got "
                                                                          r"float 2.5$", None),
    ("StepLR-gamma-nan", sched("StepLR", step_size=2, gamma=NAN), ValueError, r"^StepLR: invalid gamma=nan", None),
    ("StepLR-gamma-negative", sched("StepLR", step_size=2, gamma=-0.5), ValueError, r"invalid gamma=-0.5", None),
    ("MultiStepLR-negative", sched("MultiStepLR", milestones=[3, -1]), ValueError,
     r"^MultiStepLR: invalid milestones\[1\]=-1; expected an int >= 0$", None),
    ("MultiStepLR-float", sched("MultiStepLR", milestones=[1.5]), TypeError, r"milestones\[0\] must be an int", None),
    ("MultiStepLR-int", sched("MultiStepLR", milestones=5), TypeError, r"^MultiStepLR: milestones must be a list of "
                                                                       r"ints, got int$", TypeError),
    ("ExponentialLR-gamma-inf", sched("ExponentialLR", gamma=INF), ValueError, r"^ExponentialLR: invalid gamma=inf",
     None),
    ("ConstantLR-factor-above-1", sched("ConstantLR", factor=1.5), ValueError,
     r"^ConstantLR: invalid factor=1.5; expected a finite number in \(0, 1\]$", ValueError),
    ("ConstantLR-factor-0", sched("ConstantLR", factor=0), ValueError, r"invalid factor=0", None),
    ("ConstantLR-factor-nan", sched("ConstantLR", factor=NAN), ValueError, r"invalid factor=nan", None),
    ("ConstantLR-total-iters-0", sched("ConstantLR", total_iters=0), ValueError, r"invalid total_iters=0", None),
    ("LinearLR-start-0", sched("LinearLR", start_factor=0), ValueError, r"^LinearLR: invalid start_factor=0",
     ValueError),
    ("LinearLR-end-above-1", sched("LinearLR", end_factor=1.5), ValueError, r"invalid end_factor=1.5", ValueError),
    ("LinearLR-total-iters-0", sched("LinearLR", total_iters=0), ValueError, r"invalid total_iters=0", None),
    ("PolynomialLR-power-nan", sched("PolynomialLR", power=NAN), ValueError, r"^PolynomialLR: invalid power=nan",
     None),
    ("CosineAnnealingLR-T-max-0", sched("CosineAnnealingLR", T_max=0), ValueError,
     r"^CosineAnnealingLR: invalid T_max=0; expected a finite number > 0$", None),
    ("CosineAnnealingLR-eta-min-nan", sched("CosineAnnealingLR", T_max=5, eta_min=NAN), ValueError,
     r"invalid eta_min=nan", None),
    ("CosineAnnealingWarmRestarts-T0-0", sched("CosineAnnealingWarmRestarts", T_0=0), ValueError,
     r"^CosineAnnealingWarmRestarts: invalid T_0=0; expected an int >= 1$", ValueError),
    ("CosineAnnealingWarmRestarts-T0-float", sched("CosineAnnealingWarmRestarts", T_0=2.5), TypeError,
     r"T_0 must be an int, got float 2.5", ValueError),
    ("CosineAnnealingWarmRestarts-T-mult-0", sched("CosineAnnealingWarmRestarts", T_0=3, T_mult=0), ValueError,
     r"invalid T_mult=0", ValueError),
    ("CosineAnnealingWarmRestarts-eta-min-str", sched("CosineAnnealingWarmRestarts", T_0=3, eta_min="0"), TypeError,
     r"eta_min must be a number, got str '0'", ValueError),
    ("CyclicLR-step-size-0", sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=0), ValueError,
     r"^CyclicLR: invalid step_size_up=0; expected a finite number > 0$", ZeroDivisionError),
    ("CyclicLR-mode", sched("CyclicLR", base_lr=0.01, max_lr=0.1, mode="sine"), ValueError,
     r"^CyclicLR: invalid mode='sine'; expected one of 'triangular', 'triangular2', 'exp_range'$", ValueError),
    ("CyclicLR-max-lr-nan", sched("CyclicLR", base_lr=0.01, max_lr=NAN), ValueError, r"invalid max_lr=nan", None),
    ("CyclicLR-scale-fn", sched("CyclicLR", base_lr=0.01, max_lr=0.1, scale_fn=3), TypeError,
     r"^CyclicLR: scale_fn must be callable, got int$", TypeError),
    ("OneCycleLR-total-steps-0", sched("OneCycleLR", max_lr=0.1, total_steps=0), ValueError,
     r"^OneCycleLR: invalid total_steps=0; expected an int >= 1$", ValueError),
    ("OneCycleLR-no-length", sched("OneCycleLR", max_lr=0.1), ValueError,
     r"^OneCycleLR: pass total_steps, or both epochs and steps_per_epoch$", ValueError),
    ("OneCycleLR-epochs-0", sched("OneCycleLR", max_lr=0.1, epochs=0, steps_per_epoch=5), ValueError,
     r"invalid epochs=0", ValueError),
    ("OneCycleLR-pct-start", sched("OneCycleLR", max_lr=0.1, total_steps=10, pct_start=1.5), ValueError,
     r"invalid pct_start=1.5; expected a finite number in \[0, 1\]", ValueError),
    ("OneCycleLR-anneal", sched("OneCycleLR", max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     r"^OneCycleLR: invalid anneal_strategy='exp'; expected one of 'cos', 'linear'$", ValueError),
    ("OneCycleLR-max-lr-list", sched("OneCycleLR", max_lr=[0.1, 0.2], total_steps=10), ValueError,
     r"^OneCycleLR: expected 1 values of max_lr \(one per parameter group\), got 2$", ValueError),
    ("OneCycleLR-max-lr-nan", sched("OneCycleLR", max_lr=NAN, total_steps=10), ValueError, r"invalid max_lr=nan",
     None),
    ("OneCycleLR-div-factor-0", sched("OneCycleLR", max_lr=0.1, total_steps=10, div_factor=0), ValueError,
     r"invalid div_factor=0", ZeroDivisionError),
    ("OneCycleLR-no-momentum", adagrad_onecycle, ValueError, r"^OneCycleLR: cycle_momentum=True needs an optimizer "
                                                             r"with momentum or betas, got Adagrad", ValueError),
    ("ReduceLROnPlateau-factor-1", sched("ReduceLROnPlateau", factor=1.0), ValueError,
     r"^ReduceLROnPlateau: invalid factor=1.0; expected a finite number in \[0, 1\)$", ValueError),
    ("ReduceLROnPlateau-factor-negative", sched("ReduceLROnPlateau", factor=-0.1), ValueError,
     r"invalid factor=-0.1", None),
    ("ReduceLROnPlateau-mode", sched("ReduceLROnPlateau", mode="avg"), ValueError,
     r"^ReduceLROnPlateau: invalid mode='avg'; expected one of 'min', 'max'$", ValueError),
    ("ReduceLROnPlateau-threshold-mode", sched("ReduceLROnPlateau", threshold_mode="pct"), ValueError,
     r"invalid threshold_mode='pct'", ValueError),
    ("ReduceLROnPlateau-patience", sched("ReduceLROnPlateau", patience=-1), ValueError, r"invalid patience=-1", None),
    ("ReduceLROnPlateau-cooldown-float", sched("ReduceLROnPlateau", cooldown=1.5), TypeError,
     r"cooldown must be an int", None),
    ("ReduceLROnPlateau-min-lr-list", sched("ReduceLROnPlateau", min_lr=[0, 0]), ValueError,
     r"expected 1 values of min_lr", ValueError),
    ("ReduceLROnPlateau-eps-nan", sched("ReduceLROnPlateau", eps=NAN), ValueError, r"invalid eps=nan", None),
    ("LambdaLR-not-callable", sched("LambdaLR", lr_lambda=3), TypeError, r"^LambdaLR: lr_lambda must be callable, "
                                                                         r"got int$", TypeError),
    ("LambdaLR-list-length", sched("LambdaLR", lr_lambda=[abs, abs]), ValueError,
     r"^LambdaLR: expected 1 values of lr_lambda \(one per parameter group\), got 2$", ValueError),
    ("MultiplicativeLR-not-callable", sched("MultiplicativeLR", lr_lambda=[3]), TypeError,
     r"^MultiplicativeLR: lr_lambda\[0\] must be callable, got int$", TypeError),
    ("SequentialLR-milestone-count", sequential([3]), ValueError, r"^SequentialLR: expected 2 milestones \(one "
                                                                  r"fewer than the 3 schedulers\), got 1$", ValueError),
    ("SequentialLR-milestones-order", sequential([5, 3]), ValueError, r"^SequentialLR: milestones must increase",
     None),
    ("SequentialLR-empty", lambda L, p: L.optim.lr_scheduler.SequentialLR(sgd(L, p), [], []), ValueError,
     r"^SequentialLR: expected at least one scheduler", ValueError),
    ("SequentialLR-other-optimizer", other_optimizer, ValueError, r"schedulers\[1\] \(StepLR\) belongs to another "
                                                                  r"optimizer", ValueError),
    ("SequentialLR-plateau", plateau_in_sequence, ValueError, r"schedulers\[1\] is a ReduceLROnPlateau", ValueError),
    ("ChainedScheduler-empty", lambda L, p: L.optim.lr_scheduler.ChainedScheduler([]), ValueError,
     r"^ChainedScheduler: expected at least one scheduler", ValueError),
    ("scheduler-not-optimizer", lambda L, p: L.optim.lr_scheduler.StepLR([p], 2), TypeError,
     r"^StepLR: expected an Optimizer, got list$", TypeError),
    ("last-epoch-below-minus-1", sched("ExponentialLR", gamma=0.9, last_epoch=-2), ValueError,
     r"^ExponentialLR: invalid last_epoch=-2; expected an int >= -1$", KeyError),
    ("resume-without-initial-lr", resume_without_initial_lr, KeyError, r"StepLR: param_groups\[0\] has no "
                                                                       r"'initial_lr'", KeyError),
]


@pytest.mark.parametrize("name,call,exc,pattern,torch_exc", ROWS, ids=[r[0] for r in ROWS])
def test_bad_hyperparameter(name, call, exc, pattern, torch_exc):
    p = _param(tr)
    with pytest.raises(exc, match=pattern):
        call(tr, p)
    torch = pytest.importorskip("torch")
    tp = _param(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if torch_exc is None:  # torch accepts it: we are stricter on purpose (NaN, inf, zero sizes)
            call(torch, tp)
        else:
            with pytest.raises(torch_exc):
                call(torch, tp)


def test_every_optimizer_and_scheduler_has_a_row():
    from tinygrad_rnn import optim
    covered = " ".join(r[0] for r in ROWS)
    names = [n for n in optim.__all__ if n not in ("Optimizer", "lr_scheduler")] + \
        [n for n in optim.lr_scheduler.__all__ if n not in ("LRScheduler", "_LRScheduler")]
    missing = [n for n in names if n not in covered]
    assert not missing, f"no bad-hyperparameter row for {missing}"
