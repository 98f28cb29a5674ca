"""Patients' data keys, wrapped, in a database of their own: the KeyVault port and its adapters."""

from shared.keyvault.port import KeyVault, WrappedKey

__all__ = ["KeyVault", "WrappedKey"]
