"""The README's main demo (grows into the character-level language model as the layers land).
For now: reverse-mode autodiff on a tiny recurrence, checked against finite differences."""

import tinygrad_rnn as tr


def main():
    tr.manual_seed(0)
    W = tr.randn(4, 4, dtype=tr.float64, requires_grad=True)
    x = tr.randn(10, 4, dtype=tr.float64)

    def unrolled(W):
        h = tr.zeros(4, dtype=tr.float64)
        for t in range(10):
            h = (x[t] + h @ W * 0.5).tanh()
        return h

    loss = (unrolled(W) ** 2).sum()
    loss.backward()
    print(f"loss {loss.item():.6f}; dloss/dW[0] = {W.grad.numpy()[0].round(4)}")
    print("gradcheck of 10 unrolled steps:", tr.gradcheck(unrolled, [W]))


if __name__ == "__main__":
    main()
