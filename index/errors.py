"""Errors a user can fix. Each message is shown as is and names the fix."""


class EssayBotError(Exception):
    """Base class: str(error) is one line a person can act on."""


class CorpusError(EssayBotError):
    """A corpus file or directory cannot be used."""


class IndexMissingError(EssayBotError):
    """No built index where one was expected."""


class IndexCorruptError(EssayBotError):
    """An index file exists but cannot be read."""


class EmbedderMismatchError(EssayBotError):
    """The index was built with another embedder than the one asked for."""


class EmbedderError(EssayBotError):
    """An embedder cannot be created or loaded (unknown name, missing model or package)."""


class QuestionError(EssayBotError):
    """A question cannot be answered as given (empty, too long)."""


class VectorIndexError(EssayBotError):
    """A vector index type that does not exist was asked for."""


class IndexOutdatedError(EssayBotError):
    """The index was built by a version of essaybot that chunked the essays differently."""


class IndexUnavailableError(QuestionError):
    """The serving index is damaged and no earlier generation opens: every channel shows this
    to the asker, as it shows a question it cannot take."""
