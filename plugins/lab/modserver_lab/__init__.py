"""The lab plugin: JupyterLab 4 and Notebook 7 pages, their static assets and labextensions."""
