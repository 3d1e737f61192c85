"""Upload handling that never writes a selfie to disk."""

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, StopUpload


class UploadTooLarge(Exception):
    pass


class MemoryOnlyUploadHandler(MemoryFileUploadHandler):
    """Keep uploads in memory and stop reading once the size cap is passed.

    Django's stock handler hands big files to a temporary-file handler; here there is none, so a
    selfie is never spooled to disk, and an oversized body is cut off rather than buffered.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True  # always in memory; the cap below bounds it

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.MIEN_MAX_UPLOAD_BYTES:
            self.request.mien_upload_too_large = True
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)
