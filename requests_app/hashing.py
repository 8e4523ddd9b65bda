"""SHA-256 whose running state can be saved between requests and resumed in another process.

A tus upload arrives as many PATCH requests, which a city's proxy may hand to different web processes on
different hosts; the fingerprint of the whole file is still computed while the bytes stream in. hashlib
cannot export its state, so this calls the same OpenSSL library hashlib uses (OpenSSL's documented
SHA256_Init/SHA256_Update/SHA256_Final and its public SHA256_CTX structure, unchanged since OpenSSL 0.9.8)
and keeps the context as 112 bytes that the Upload row stores next to its offset.
"""

import _hashlib
import ctypes
import ctypes.util
import hashlib

__all__ = ["ResumableSHA256", "STATE_BYTES"]


class _Context(ctypes.Structure):
    # openssl/sha.h: SHA_LONG h[8]; SHA_LONG Nl, Nh; SHA_LONG data[SHA_LBLOCK]; unsigned int num, md_len;
    _fields_ = [("h", ctypes.c_uint32 * 8), ("Nl", ctypes.c_uint32), ("Nh", ctypes.c_uint32),
                ("data", ctypes.c_uint32 * 16), ("num", ctypes.c_uint), ("md_len", ctypes.c_uint)]


STATE_BYTES = ctypes.sizeof(_Context)


def _load_libcrypto():
    """The libcrypto hashlib itself runs on (its symbols resolve through _hashlib), else the system's."""
    candidates = [_hashlib.__file__, ctypes.util.find_library("crypto")]
    for candidate in filter(None, candidates):
        try:
            library = ctypes.CDLL(candidate)
            functions = library.SHA256_Init, library.SHA256_Update, library.SHA256_Final
        except (OSError, AttributeError):
            continue
        pointer = ctypes.POINTER(_Context)
        functions[0].argtypes = [pointer]
        functions[1].argtypes = [pointer, ctypes.c_void_p, ctypes.c_size_t]
        functions[2].argtypes = [ctypes.c_char_p, pointer]
        for function in functions:
            function.restype = ctypes.c_int
        return functions
    raise ImportError("OpenSSL's SHA256_Init/SHA256_Update/SHA256_Final are not available to Python "
                      "(libcrypto built without deprecated functions?); uploads cannot be fingerprinted.")


_INIT, _UPDATE, _FINAL = _load_libcrypto()


class ResumableSHA256:
    """hashlib.sha256() that can be frozen with state() and thawed with ResumableSHA256(state)."""

    name = "sha256"
    digest_size = 32

    def __init__(self, state=None):
        if state is None:
            self._context = _Context()
            _INIT(ctypes.byref(self._context))
        else:
            state = bytes(state)
            if len(state) != STATE_BYTES:
                raise ValueError(f"A SHA-256 state is {STATE_BYTES} bytes, not {len(state)}.")
            self._context = _Context.from_buffer_copy(state)

    def update(self, data):
        if isinstance(data, bytes):
            buffer, size = data, len(data)  # ctypes passes a bytes object's own buffer, uncopied
        else:
            view = memoryview(data).cast("B")
            size = len(view)
            buffer = view.tobytes() if view.readonly else (ctypes.c_char * size).from_buffer(view)
        if size:
            _UPDATE(ctypes.byref(self._context), buffer, size)

    def state(self):
        """The running state as bytes (STATE_BYTES long): store it, and resume with ResumableSHA256(state)."""
        return bytes(self._context)

    @property
    def length(self):
        """How many bytes were hashed so far."""
        return ((self._context.Nh << 32) | self._context.Nl) // 8

    def digest(self):
        finished = _Context.from_buffer_copy(bytes(self._context))  # leaves this object usable
        out = ctypes.create_string_buffer(self.digest_size)
        _FINAL(out, ctypes.byref(finished))
        return out.raw

    def hexdigest(self):
        return self.digest().hex()


def _self_test():
    probe = ResumableSHA256()
    probe.update(b"abc")
    resumed = ResumableSHA256(probe.state())
    resumed.update(b"def")
    if resumed.hexdigest() != hashlib.sha256(b"abcdef").hexdigest():
        raise ImportError("OpenSSL's SHA-256 context does not have the layout this module expects.")


_self_test()
