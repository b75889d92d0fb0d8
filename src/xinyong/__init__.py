"""xinyong (信用): a public credit information platform (公共信用信息平台) for cities and counties."""

__version__ = "0.1.0"
