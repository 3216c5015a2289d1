"""Model fields for personal data (R7.2): encrypted with SM4-GCM, shown masked unless revealed."""

from __future__ import annotations

from django.db import models

from . import crypto, masking

MASKERS = {
    "name": masking.mask_name,
    "phone": masking.mask_phone,
    "id_number": masking.mask_id_number,
    "email": masking.mask_email,
    "secret": lambda _value: "******",
}


class Sealed:
    """A decrypt-on-demand personal value. ``str()`` gives the masked form, so it cannot leak into logs,
    templates or error messages by accident; ``reveal()`` is the one way to the clear text."""

    __slots__ = ("_blob", "_kind", "_clear")

    def __init__(self, blob: bytes | None = None, kind: str = "name", clear: str | None = None):
        self._blob = bytes(blob) if blob is not None else None
        self._kind = kind
        self._clear = clear

    def reveal(self) -> str:
        if self._clear is None:
            self._clear = crypto.sm4_decrypt(self._blob) if self._blob else ""
        return self._clear

    @property
    def masked(self) -> str:
        return MASKERS[self._kind](self.reveal())

    @property
    def blob(self) -> bytes | None:
        return self._blob

    def __bool__(self) -> bool:
        return bool(self._blob) or bool(self._clear)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"<Sealed {self._kind}: {self.masked}>"

    def __eq__(self, other) -> bool:
        if isinstance(other, Sealed):
            return self.reveal() == other.reveal()
        if isinstance(other, str):
            return self.reveal() == other
        return NotImplemented

    __hash__ = None


class _SealingDescriptor:
    """Wraps whatever is assigned (clear text or stored bytes) in a Sealed, so the clear value is never
    what code gets by default: ``str(record.applicant_phone)`` is always the masked form."""

    def __init__(self, field):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance.__dict__.get(self.field.attname)

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = self.field.to_python(value) if value not in (None, "") else None


class PersonalDataField(models.BinaryField):
    """Stores a ``str`` as SM4-GCM ciphertext; loads it as a :class:`Sealed`."""

    def __init__(self, *args, kind: str = "name", **kwargs):
        if kind not in MASKERS:
            raise ValueError(f"unknown personal data kind {kind!r}")
        self.kind = kind
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        setattr(cls, self.attname, _SealingDescriptor(self))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return Sealed(value, self.kind)

    def to_python(self, value):
        if value is None or isinstance(value, Sealed):
            return value
        if isinstance(value, str):
            return Sealed(kind=self.kind, clear=value)
        return Sealed(bytes(value), self.kind)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or value == "":
            return None
        if isinstance(value, Sealed):
            value = value.blob if value.blob is not None else crypto.sm4_encrypt(value.reveal())
        elif isinstance(value, str):
            value = crypto.sm4_encrypt(value)
        return super().get_db_prep_value(value, connection, prepared)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return str(value) if value else ""
