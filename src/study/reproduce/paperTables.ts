/**
 * The published numbers ohmic reproduces: Tables 2–9 of *Noisy Computations
 * during Inference: Harmful or Helpful?* (`../shared/reference/noisy-inference-paper.txt`),
 * copied as printed (accuracies as fractions). Every row is indexed by the
 * inference σ ∈ {0, 0.2, …, 1.0}, the columns of the paper's tables.
 */

/** The inference σ of every table's columns. */
export const PAPER_SIGMAS: readonly number[] = [0, 0.2, 0.4, 0.6, 0.8, 1.0];

/** The paper's column of inference σ `sigma` in its tables (index into PAPER_SIGMAS), or -1 when it has none. */
export function paperSigmaIndex(sigma: number): number {
  return PAPER_SIGMAS.findIndex((p) => Math.abs(p - sigma) < 1e-9);
}

/** A σ_train-sweep table (Tables 2, 3, 5, 6): the σ_train = 0 row, the best accuracy and the σ_train giving it. */
export interface PaperSweepTable {
  readonly noiselessTrained: readonly number[];
  readonly best: readonly number[];
  readonly bestSigmaTrain: readonly number[];
}

/** A voting table (Tables 7, 8, 9): best accuracy without votes, best with 20 votes, and the σ_train of the latter. */
export interface PaperVotingTable {
  readonly noVoting: readonly number[];
  readonly bestVoting: readonly number[];
  readonly bestVotingSigmaTrain: readonly number[];
}

/** Table 2: CNN-6 on MNIST, multiplicative noise. */
export const PAPER_TABLE_2: PaperSweepTable = {
  noiselessTrained: [0.995, 0.993, 0.935, 0.657, 0.388, 0.211],
  best: [0.996, 0.995, 0.993, 0.946, 0.861, 0.777],
  bestSigmaTrain: [0.2, 0.5, 0.5, 0.7, 1.0, 1.0],
};

/** Table 3: CNN-6 on MNIST, additive noise (batch norm fixed). */
export const PAPER_TABLE_3: PaperSweepTable = {
  noiselessTrained: [0.995, 0.993, 0.958, 0.805, 0.588, 0.387],
  best: [0.996, 0.995, 0.994, 0.992, 0.99, 0.984],
  bestSigmaTrain: [0.4, 0.4, 0.4, 0.6, 0.9, 1.0],
};

/** Table 5: DenseNet-40 on CIFAR-10, multiplicative noise. */
export const PAPER_TABLE_5: PaperSweepTable = {
  noiselessTrained: [0.925, 0.919, 0.885, 0.787, 0.604, 0.299],
  best: [0.928, 0.924, 0.915, 0.856, 0.757, 0.669],
  bestSigmaTrain: [0.1, 0.2, 0.4, 0.6, 0.8, 1.0],
};

/** Table 6: LSTM on MNIST stroke sequences, multiplicative noise. */
export const PAPER_TABLE_6: PaperSweepTable = {
  noiselessTrained: [0.948, 0.88, 0.498, 0.236, 0.17, 0.155],
  best: [0.956, 0.957, 0.943, 0.873, 0.77, 0.669],
  bestSigmaTrain: [0.3, 0.3, 0.4, 0.6, 0.8, 1.0],
};

/** Table 7: CNN-6 on MNIST (multiplicative), 20 votes. */
export const PAPER_TABLE_7: PaperVotingTable = {
  noVoting: PAPER_TABLE_2.best,
  bestVoting: [0.996, 0.996, 0.996, 0.996, 0.996, 0.995],
  bestVotingSigmaTrain: [0.2, 0.5, 0.5, 0.5, 0.8, 0.9],
};

/** Table 8: DenseNet-40 on CIFAR-10, 20 votes. */
export const PAPER_TABLE_8: PaperVotingTable = {
  noVoting: PAPER_TABLE_5.best,
  bestVoting: [0.928, 0.927, 0.927, 0.928, 0.913, 0.891],
  bestVotingSigmaTrain: [0.1, 0.1, 0.2, 0.3, 0.6, 0.8],
};

/** Table 9: LSTM on MNIST stroke sequences, 20 votes. */
export const PAPER_TABLE_9: PaperVotingTable = {
  noVoting: PAPER_TABLE_6.best,
  bestVoting: [0.956, 0.961, 0.959, 0.946, 0.927, 0.896],
  bestVotingSigmaTrain: [0.3, 0.3, 0.4, 0.6, 0.7, 0.8],
};

/** Table 4: mean |w| of the CNN-6 (multiplicative) per σ_train. */
export const PAPER_TABLE_4: ReadonlyArray<{ readonly sigmaTrain: number; readonly meanAbsWeight: number }> = [
  { sigmaTrain: 0, meanAbsWeight: 0.049 },
  { sigmaTrain: 0.1, meanAbsWeight: 0.054 },
  { sigmaTrain: 0.2, meanAbsWeight: 0.054 },
  { sigmaTrain: 0.3, meanAbsWeight: 0.059 },
  { sigmaTrain: 0.4, meanAbsWeight: 0.06 },
  { sigmaTrain: 0.5, meanAbsWeight: 0.06 },
  { sigmaTrain: 0.6, meanAbsWeight: 0.058 },
  { sigmaTrain: 0.7, meanAbsWeight: 0.056 },
  { sigmaTrain: 0.8, meanAbsWeight: 0.06 },
  { sigmaTrain: 0.9, meanAbsWeight: 0.058 },
  { sigmaTrain: 1.0, meanAbsWeight: 0.059 },
];

/** SNR in dB of a multiplicative σ (paper §2): 10·log10(1/σ²); σ = 0 is noiseless (∞). */
export function snrDb(sigma: number): number {
  return sigma === 0 ? Infinity : -20 * Math.log10(sigma);
}

/**
 * Table 11: black-box transfer (§4). Adversarial examples made by PGD (Table 10:
 * MNIST ε = 0.3, step 0.05, 20 iterations, 20 restarts) on an adversarially
 * trained source (MNIST: Madry et al.'s 4-layer CNN; CIFAR-10: DenseNet-40) and
 * classified by a separately adversarially trained target (the 6-layer CNN;
 * DenseNet-100) with multiplicative noisy inference at σ, averaged over 20 noisy
 * runs. Rows are σ ∈ {0, 0.1, 0.2, 0.3, 0.4} (the issue's reading of the table:
 * the σ labels did not survive in our copy of the paper's text).
 */
export const PAPER_TABLE_11 = {
  caption:
    'Table 11: average validation accuracy for MNIST and CIFAR10 under black-box attacks with 20 runs of noisy inference ' +
    '(adversarial examples made on an adversarially trained source network, classified by a separately adversarially trained target with multiplicative noise σ)',
  sigmas: [0, 0.1, 0.2, 0.3, 0.4] as readonly number[],
  mnist: [0.974, 0.9779, 0.979, 0.9771, 0.97] as readonly number[],
  cifar10: [0.6652, 0.6765, 0.6743, 0.6657, 0.6339] as readonly number[],
  /** Epochs of adversarial training of both networks (§4, item 3). */
  epochs: { mnist: 100, cifar10: 300 },
} as const;
