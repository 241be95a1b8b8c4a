"""A second, unrelated recogniser, so quality is not tuned to one classifier.

The judge is a CNN on the contract's linear-frequency dB images. This one shares nothing
with it but the training clips: MFCCs (librosa's mel filterbank and DCT) summarised over
time (mean, standard deviation, and the same of the deltas), standardised, into an RBF
support-vector machine (scikit-learn). It is fitted at evaluation time on the judge's
training speakers (a few seconds) and, like the judge, never touches a VAE's training.
"""

from __future__ import annotations

import librosa
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from app.audio.contract import Contract

N_MELS = 40
N_MFCC = 20


def mfcc_summary(db: np.ndarray, contract: Contract) -> np.ndarray:
    """dB spectrograms [N, bins, frames] (re each clip's max) -> [N, 4 x N_MFCC] features."""
    mel = librosa.filters.mel(sr=contract.sample_rate, n_fft=contract.n_fft, n_mels=N_MELS)
    power = 10.0 ** (db / 10.0)  # dB re max of |STFT| -> power re max
    mel_db = librosa.power_to_db(np.einsum("mb,nbt->nmt", mel, power), ref=1.0, top_db=80.0)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC)  # [N, N_MFCC, frames]
    delta = librosa.feature.delta(mfcc, axis=-1)
    return np.concatenate(
        [mfcc.mean(-1), mfcc.std(-1), delta.mean(-1), delta.std(-1)], axis=1
    ).astype(np.float32)


class SecondOpinion:
    """MFCC summary + SVM digit recogniser."""

    def __init__(self, contract: Contract, seed: int = 0) -> None:
        self.contract = contract
        self.model = make_pipeline(StandardScaler(), SVC(C=10.0, gamma="scale", random_state=seed))

    def fit(self, db: np.ndarray, digits: np.ndarray) -> SecondOpinion:
        self.model.fit(mfcc_summary(db, self.contract), digits)
        return self

    def predict(self, db: np.ndarray) -> np.ndarray:
        return self.model.predict(mfcc_summary(db, self.contract))

    def accuracy(self, db: np.ndarray, digits: np.ndarray) -> float:
        return float(np.mean(self.predict(db) == digits))
