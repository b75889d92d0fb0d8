from xinyong.cli import main

# Guarded: the import pipeline starts worker processes with the spawn method, which imports __main__.
if __name__ == "__main__":
    main()
