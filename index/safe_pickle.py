"""Whoosh's pickles, read by an unpickler that can only build index data.

Whoosh stores the schema and segment list of a table of contents, the directory of a compound
segment, stored fields and posting block headers as pickles. A stock unpickler runs whatever
callable a pickle names, so a planted or damaged index file could run code. Installed here, every
pickle Whoosh reads resolves names only to the field, format, codec, column and analysis classes
an index is made of, the stemming functions of whoosh.lang, and a few plain builtins; anything
else is refused with UnsafePickleError, which the reader turns into "index is unusable". The hooks
are process-wide: any Whoosh index opened in a process that imported procsearch.index is read
this way.
"""

from __future__ import annotations

import io
import pickle
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from types import FunctionType
from typing import Any

_PLAIN = frozenset({
    ("builtins", "int"), ("builtins", "float"), ("builtins", "str"), ("builtins", "bytes"),
    ("builtins", "list"), ("builtins", "tuple"), ("builtins", "dict"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "bytearray"), ("builtins", "object"),
    ("collections", "defaultdict"), ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"), ("_codecs", "encode"),  # protocol-2 bytes and objects
    ("re", "_compile"),  # tokenizer patterns
})
# Modules whose own classes (not functions, not names they import) an index may name.
_CLASS_MODULES = frozenset({"whoosh.fields", "whoosh.formats", "whoosh.columns"})
_CLASS_PACKAGES = ("whoosh.analysis.", "whoosh.codec.", "whoosh.lang.", "procsearch.index.")


class UnsafePickleError(pickle.UnpicklingError):
    """An index file names something an index is not made of."""


class _IndexUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        # Protocol-2 pickles spell names the Python 2 way (__builtin__.long is int).
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        else:
            module = IMPORT_MAPPING.get(module, module)
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        if module in _CLASS_MODULES or module.startswith(_CLASS_PACKAGES):
            obj = super().find_class(module, name)
            if getattr(obj, "__module__", None) == module and (
                    isinstance(obj, type) or (module.startswith("whoosh.lang.") and isinstance(obj, FunctionType))):
                return obj  # a class of the index, or a stemming function of a StemFilter
        raise UnsafePickleError(f"refused to load {module}.{name} from an index file")


_BUFFERED_FROM = 256  # bytes: below this a buffered reader costs more than it saves


def loads(data: bytes, **_: Any) -> Any:
    # A long pickle goes through a buffered reader: over a bare BytesIO the unpickler makes a
    # method call per opcode, which more than doubled the cost of a posting block (hundreds of
    # opcodes); for a short one (a term's inlined postings) making the buffer costs more.
    stream = io.BytesIO(data)
    return _IndexUnpickler(io.BufferedReader(stream) if len(data) >= _BUFFERED_FROM else stream).load()


def load(file: Any, **_: Any) -> Any:
    return _IndexUnpickler(file).load()


class _PickleModule:
    """Stands in for the ``pickle`` module inside whoosh.index (TOC reading)."""

    loads = staticmethod(loads)
    load = staticmethod(load)
    dumps = staticmethod(pickle.dumps)
    dump = staticmethod(pickle.dump)
    PicklingError = pickle.PicklingError
    UnpicklingError = pickle.UnpicklingError


def install() -> None:
    """Route every unpickling of Whoosh's index reading through the restricted unpickler."""
    import whoosh.codec.whoosh3 as whoosh3
    import whoosh.columns as columns
    import whoosh.compat as compat
    import whoosh.filedb.structfile as structfile
    import whoosh.formats as formats
    import whoosh.index as whoosh_index

    whoosh_index.pickle = _PickleModule  # type: ignore[assignment]
    structfile.load_pickle = load
    whoosh3.loads = loads
    columns.loads = loads
    formats.loads = loads
    compat.load = load
    compat.loads = loads
