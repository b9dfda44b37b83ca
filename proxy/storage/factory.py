from proxy.settings import StorageSettings
from proxy.storage.base import Storage


def create_storage(settings: StorageSettings) -> Storage:
    """The backend that STORAGE_PROVIDER names; remote SDKs are imported only when chosen."""
    if settings.provider == "minio":
        from proxy.storage.s3 import S3Storage

        return S3Storage(settings)
    if settings.provider == "azure":
        from proxy.storage.azure import AzureStorage

        return AzureStorage(settings)
    from proxy.storage.local import LocalStorage

    return LocalStorage(settings)
